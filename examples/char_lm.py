"""Character-level language model on the Python standard library's own source code.

The text is the ``.py`` files of the running interpreter's standard library, so it is present on
every machine. The script trains an LSTM, a GRU or a small decoder-only Transformer, reports the
validation loss against the unigram baseline (the entropy of the training characters' frequencies),
and samples text with temperature and top-k. It is a plain PyTorch program: ``--framework torch``
runs the same code on PyTorch.

    python examples/char_lm.py --model lstm --steps 600
    python examples/char_lm.py --model transformer --steps 600 --temperature 0.8 --top-k 10
"""
import argparse
import importlib
import math
import os
import sys
import time

import numpy as np


def load_text(num_chars, seed=0):
    """About ``num_chars`` characters of standard-library source, whole files in a seeded order."""
    root = os.path.dirname(os.__file__)
    files = sorted(f for f in os.listdir(root) if f.endswith(".py"))
    np.random.default_rng(seed).shuffle(files)
    parts, total = [], 0
    for name in files:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        total += len(text)
        if total >= num_chars:
            break
    return "".join(parts)[:num_chars]


class Vocab:
    """Characters <-> ids; characters unseen in training map to id 0 (the rarest bucket)."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text):
        return np.array([self.index.get(c, 0) for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def unigram_loss(train_ids, val_ids, vocab_size):
    """Cross-entropy (nats/char) of the validation text under the training unigram frequencies."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0  # add-one: unseen chars have mass
    logp = np.log(counts / counts.sum())
    return float(-logp[val_ids].mean())


def build_model(torch, kind, vocab_size, hidden, layers, seq_len, heads=4):
    nn = torch.nn

    class RecurrentLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, hidden)
            self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(hidden, hidden, layers, batch_first=True)
            self.head = nn.Linear(hidden, vocab_size)

        def forward(self, x, state=None):
            out, state = self.rnn(self.embed(x), state)
            return self.head(out), state

    class TransformerLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, hidden)
            self.pos = nn.Embedding(seq_len, hidden)
            layer = nn.TransformerEncoderLayer(hidden, heads, 4 * hidden, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden)
            self.head = nn.Linear(hidden, vocab_size)

        def forward(self, x, state=None):
            T = x.shape[1]
            h = self.embed(x) + self.pos(torch.arange(T))
            mask = nn.Transformer.generate_square_subsequent_mask(T)
            h = self.blocks(h, mask=mask, is_causal=True)
            return self.head(self.norm(h)), None

    return TransformerLM() if kind == "transformer" else RecurrentLM()


def batches(ids, batch_size, seq_len, rng):
    """Random windows: inputs and next-character targets, (B, T) each."""
    starts = rng.integers(0, len(ids) - seq_len - 1, batch_size)
    idx = starts[:, None] + np.arange(seq_len + 1)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def evaluate(torch, model, ids, seq_len, batch_size=64):
    """Mean cross-entropy over consecutive windows of the whole validation text."""
    F = torch.nn.functional
    n = (len(ids) - 1) // seq_len
    x = ids[:n * seq_len].reshape(n, seq_len)
    y = ids[1:n * seq_len + 1].reshape(n, seq_len)
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, n, batch_size):
            xb, yb = torch.from_numpy(x[i:i + batch_size]), torch.from_numpy(y[i:i + batch_size])
            logits, _ = model(xb)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1), reduction="sum")
            total += float(loss)
            count += yb.numel()
    model.train()
    return total / count


def sample(torch, model, vocab, prompt, length, temperature, top_k, seq_len, rng):
    """Generate ``length`` characters after ``prompt``: softmax(logits / temperature) over the top k."""
    model.eval()
    ids = list(vocab.encode(prompt)) or [0]
    state = None
    with torch.no_grad():
        feed = ids
        for _ in range(length):
            if state is None and hasattr(model, "rnn"):
                logits, state = model(torch.tensor([feed]))
            elif hasattr(model, "rnn"):
                logits, state = model(torch.tensor([[ids[-1]]]), state)
            else:
                logits, _ = model(torch.tensor([ids[-seq_len:]]))
            z = logits[0, -1].numpy().astype(np.float64) / max(temperature, 1e-6)
            if top_k and top_k < z.size:
                z[z < np.sort(z)[-top_k]] = -np.inf
            p = np.exp(z - z.max())
            ids.append(int(rng.choice(z.size, p=p / p.sum())))
    model.train()
    return vocab.decode(ids)


def main(argv=None):
    p = argparse.ArgumentParser(description="Character-level LM on the Python standard library's sources.")
    p.add_argument("--model", choices=["lstm", "gru", "transformer"], default="lstm")
    p.add_argument("--framework", default="ember", help="ember (default) or torch")
    p.add_argument("--chars", type=int, default=400_000, help="characters of text to use")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--sample-len", type=int, default=300)
    p.add_argument("--prompt", default="def ")
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (small models run best on 1)")
    args = p.parse_args(argv)

    torch = importlib.import_module(args.framework)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text = load_text(args.chars, args.seed)
    split = int(len(text) * 0.9)
    vocab = Vocab(text[:split])
    train_ids, val_ids = vocab.encode(text[:split]), vocab.encode(text[split:])
    baseline = unigram_loss(train_ids, val_ids, len(vocab.chars))
    print(f"{len(text):,} characters ({len(vocab.chars)} distinct) from {os.path.dirname(os.__file__)}; "
          f"unigram baseline {baseline:.3f} nats/char")

    model = build_model(torch, args.model, len(vocab.chars), args.hidden, args.layers, args.seq_len)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    F = torch.nn.functional
    t0 = time.time()
    val = float("nan")
    for step in range(1, args.steps + 1):
        x, y = batches(train_ids, args.batch_size, args.seq_len, rng)
        logits, _ = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            val = evaluate(torch, model, val_ids, args.seq_len)
            print(f"step {step:5d}  train {float(loss):.3f}  val {val:.3f}  (unigram {baseline:.3f})  "
                  f"{time.time() - t0:.0f}s", flush=True)
    text_out = sample(torch, model, vocab, args.prompt, args.sample_len, args.temperature, args.top_k,
                      args.seq_len, rng)
    print(f"--- sample (temperature {args.temperature}, top-k {args.top_k}) ---\n{text_out}")
    return {"val_loss": val, "unigram": baseline, "sample": text_out}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
