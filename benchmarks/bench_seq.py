"""Sequence-model training speed, ember vs torch side by side (interleaved, one thread each).

Workloads, written once against the torch API and run on both libraries:
  lstm_lm  2-layer LSTM word LM: vocab 10,000, embedding/hidden 256, seq 35, batch 20, SGD,
           truncated BPTT, gradient clipping 0.25
  tfm_lm   decoder-only Transformer: vocab 256, d_model 128, 4 layers (nn.TransformerEncoderLayer,
           causal, pre-norm, default ReLU, dim_feedforward 512), 4 heads, seq 128, batch 16, AdamW

    OMP_NUM_THREADS=1 python benchmarks/bench_seq.py [--workload lstm_lm] [--rounds 5] [--seconds 2]
"""
import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy/torch start their thread pools

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from timing import interleaved  # noqa: E402

from workloads import build_lstm_lm  # noqa: E402  (the same LSTM LM as benchmarks/run.py's lstm_lm)

TFM = dict(vocab=256, d=128, layers=4, heads=4, ff=512, seq=128, batch=16)


def build_tfm_lm(lib):
    lib.manual_seed(0)
    nn, c = lib.nn, TFM

    class DecoderOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(c["vocab"], c["d"])
            self.pos = nn.Embedding(c["seq"], c["d"])
            layer = nn.TransformerEncoderLayer(c["d"], c["heads"], c["ff"], dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, c["layers"], enable_nested_tensor=False)
            self.ln_f = nn.LayerNorm(c["d"])
            self.head = nn.Linear(c["d"], c["vocab"], bias=False)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(c["seq"]))
            self.register_buffer("positions", lib.arange(c["seq"]))

        def forward(self, idx):
            x = self.tok(idx) + self.pos(self.positions)
            x = self.blocks(x, mask=self.mask, is_causal=True)
            return self.head(self.ln_f(x))

    model = DecoderOnly()
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    rng = np.random.default_rng(0)
    seqs = [lib.from_numpy(rng.integers(0, c["vocab"], (c["batch"], c["seq"] + 1)).astype(np.int64))
            for _ in range(2)]
    state = {"i": 0}
    F = nn.functional

    def step():
        i = state["i"] = (state["i"] + 1) % len(seqs)
        s = seqs[i]
        opt.zero_grad()
        logits = model(s[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), s[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return step


WORKLOADS = {"lstm_lm": build_lstm_lm, "tfm_lm": build_tfm_lm}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", choices=sorted(WORKLOADS), action="append")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=2.0, help="target seconds per framework per round")
    p.add_argument("--warmup", type=int, default=2)
    args = p.parse_args(argv)
    import ember
    ember.set_num_threads(1)
    libs = {"ember": ember}
    try:
        import torch
        torch.set_num_threads(1)
        libs["torch"] = torch
    except ImportError:
        print("torch is not installed: ember only")
    print(f"{'workload':10s} {'ember steps/s':>14s} {'torch steps/s':>14s} {'ratio':>7s}")
    results = {}
    for name in args.workload or sorted(WORKLOADS):
        steps = {}
        for lib_name, lib in libs.items():
            try:
                steps[lib_name] = WORKLOADS[name](lib)
            except Exception as exc:  # a workload ember cannot run yet is reported, not hidden
                print(f"{name:10s} {lib_name} cannot run it: {type(exc).__name__}: {exc}")
        r = interleaved(steps, args.rounds, args.seconds, args.warmup)
        e = r.get("ember", {}).get("steps_per_s", float("nan"))
        t = r.get("torch", {}).get("steps_per_s", float("nan"))
        results[name] = (e, t)
        print(f"{name:10s} {e:14.2f} {t:14.2f} {e / t:7.2f}", flush=True)
    return results


if __name__ == "__main__":
    main()
