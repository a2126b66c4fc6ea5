"""Benchmark workloads, each written once against the PyTorch API.

A workload's ``build(torch)`` takes the framework module (real ``torch`` or ``ember``, used as
``torch``) and returns a ``step()`` callable; one call is one training step, one inference call or
one batch of micro-ops. Inputs come from NumPy with a fixed seed, so both frameworks see the same
data. ``flops`` is counted analytically per step (multiply-adds x 2, backward = 2x forward for the
GEMM/conv layers); elementwise work is ignored, as is usual.

>>> import ember
>>> step = WORKLOADS["mlp"].build(ember)
>>> step()  # one SGD step of the 784-128-10 MLP
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    build: Callable            # build(torch) -> step()
    unit: str                  # what one step is, for the table ("step", "call", "op", "epoch")
    samples: int               # samples processed per step (batch size, ops per step ...)
    flops: float               # analytic floating-point operations per step
    description: str
    kind: str = "train"        # "train", "infer", "micro", "data"
    uses_workers: bool = False


WORKLOADS = {}


def workload(**meta):
    def register(build):
        WORKLOADS[meta["name"]] = Workload(build=build, **meta)
        return build
    return register


# ------------------------------------------------------------------ helpers
def _rng():
    return np.random.default_rng(0)


def _batches(torch, rng, n, shape, classes, dtype=np.float32):
    """A few fixed batches (inputs, integer labels) cycled by the step, converted once."""
    xs = [torch.from_numpy(rng.standard_normal(shape).astype(dtype)) for _ in range(n)]
    ys = [torch.from_numpy(rng.integers(0, classes, shape[0]).astype(np.int64)) for _ in range(n)]
    return xs, ys


def _train_step(torch, model, opt, xs, ys, clip=None):
    nn = torch.nn
    loss_fn = nn.CrossEntropyLoss()
    state = {"i": 0}
    params = list(model.parameters())

    def step():
        i = state["i"] = (state["i"] + 1) % len(xs)
        opt.zero_grad()
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        return loss
    return step


def _linear_flops(batch, *sizes):
    return sum(2.0 * batch * a * b for a, b in zip(sizes, sizes[1:]))


def _conv_flops(batch, cin, cout, k, hout, wout):
    return 2.0 * batch * cin * cout * k * k * hout * wout


# ------------------------------------------------------------------ training workloads
@workload(name="mlp", unit="step", samples=64, flops=3 * _linear_flops(64, 784, 128, 10),
          description="MLP 784-128-10, batch 64, SGD")
def build_mlp(torch):
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xs, ys = _batches(torch, _rng(), 4, (64, 784), 10)
    return _train_step(torch, model, opt, xs, ys)


@workload(name="mlp_big", unit="step", samples=256, flops=3 * _linear_flops(256, 784, 1024, 1024, 10),
          description="MLP 784-1024-1024-10, batch 256, Adam")
def build_mlp_big(torch):
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = _batches(torch, _rng(), 2, (256, 784), 10)
    return _train_step(torch, model, opt, xs, ys)


_LENET_FLOPS = 3 * (_conv_flops(64, 3, 6, 5, 28, 28) + _conv_flops(64, 6, 16, 5, 10, 10)
                    + _linear_flops(64, 400, 120, 84, 10))


@workload(name="lenet", unit="step", samples=64, flops=_LENET_FLOPS,
          description="LeNet-5 on CIFAR shapes (3x32x32), batch 64, SGD momentum")
def build_lenet(torch):
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _batches(torch, _rng(), 4, (64, 3, 32, 32), 10)
    return _train_step(torch, model, opt, xs, ys)


_CNN_FLOPS = 3 * (_conv_flops(64, 3, 32, 3, 32, 32) + _conv_flops(64, 32, 64, 3, 16, 16)
                  + _linear_flops(64, 64 * 8 * 8, 128, 10))


@workload(name="cnn", unit="step", samples=64, flops=_CNN_FLOPS,
          description="conv(3,32,3)-pool-conv(32,64,3)-pool-fc128-fc10 (padding 1), batch 64, SGD momentum")
def build_cnn(torch):
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _batches(torch, _rng(), 4, (64, 3, 32, 32), 10)
    return _train_step(torch, model, opt, xs, ys)


def _resnet_flops(batch):
    f = _conv_flops(batch, 3, 16, 3, 32, 32)
    f += 2 * _conv_flops(batch, 16, 16, 3, 32, 32)                                     # stage 1
    f += _conv_flops(batch, 16, 32, 3, 16, 16) + _conv_flops(batch, 32, 32, 3, 16, 16)  # stage 2
    f += _conv_flops(batch, 16, 32, 1, 16, 16)
    f += _conv_flops(batch, 32, 64, 3, 8, 8) + _conv_flops(batch, 64, 64, 3, 8, 8)      # stage 3
    f += _conv_flops(batch, 32, 64, 1, 8, 8)
    return 3 * (f + _linear_flops(batch, 64, 10))


@workload(name="resnet", unit="step", samples=32, flops=_resnet_flops(32),
          description="ResNet-8 (16/32/64 channels, BatchNorm) on 3x32x32, batch 32, SGD momentum + wd")
def build_resnet(torch):
    torch.manual_seed(0)
    nn = torch.nn
    F = nn.functional

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
            self.layers = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc(self.layers(self.stem(x)).mean(dim=(2, 3)))

    model = ResNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    xs, ys = _batches(torch, _rng(), 4, (32, 3, 32, 32), 10)
    return _train_step(torch, model, opt, xs, ys)


_LSTM = dict(vocab=10_000, emb=256, hidden=256, layers=2, seq=35, batch=20)


def _lstm_flops():
    c = _LSTM
    tokens = c["seq"] * c["batch"]
    f = tokens * 2.0 * 4 * c["hidden"] * (c["emb"] + c["hidden"])           # layer 1
    f += tokens * 2.0 * 4 * c["hidden"] * (2 * c["hidden"])                 # layer 2
    f += tokens * 2.0 * c["hidden"] * c["vocab"]                            # decoder
    return 3 * f


@workload(name="lstm_lm", unit="step", samples=_LSTM["seq"] * _LSTM["batch"], flops=_lstm_flops(),
          description="2-layer LSTM word LM (vocab 10k, emb/hidden 256, seq 35, batch 20), SGD + grad clipping")
def build_lstm_lm(torch):
    torch.manual_seed(0)
    nn = torch.nn
    c = _LSTM

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(c["vocab"], c["emb"])
            self.rnn = nn.LSTM(c["emb"], c["hidden"], c["layers"])
            self.decoder = nn.Linear(c["hidden"], c["vocab"])

        def forward(self, tokens, hidden):
            out, hidden = self.rnn(self.encoder(tokens), hidden)
            return self.decoder(out).view(-1, c["vocab"]), hidden

    model = LM()
    opt = torch.optim.SGD(model.parameters(), lr=20.0)
    loss_fn = nn.CrossEntropyLoss()
    rng = _rng()
    stream = rng.integers(0, c["vocab"], (c["seq"] * 8 + 1, c["batch"])).astype(np.int64)
    data = torch.from_numpy(stream)
    zeros = torch.zeros(c["layers"], c["batch"], c["hidden"])
    state = {"i": 0, "hidden": (zeros, zeros)}
    params = list(model.parameters())

    def step():
        i = state["i"] = (state["i"] + 1) % 8
        x = data[i * c["seq"]:(i + 1) * c["seq"]]
        y = data[i * c["seq"] + 1:(i + 1) * c["seq"] + 1].reshape(-1)
        hidden = tuple(h.detach() for h in state["hidden"])  # truncated BPTT
        opt.zero_grad()
        logits, state["hidden"] = model(x, hidden)
        loss = loss_fn(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 0.25)
        opt.step()
        return loss
    return step


_GPT = dict(vocab=256, d=128, layers=4, heads=4, seq=128, batch=16)


def _gpt_flops():
    c = _GPT
    tokens = c["seq"] * c["batch"]
    per_layer = tokens * 2.0 * 12 * c["d"] * c["d"] + 2 * 2.0 * c["batch"] * c["seq"] * c["seq"] * c["d"]
    return 3 * (c["layers"] * per_layer + tokens * 2.0 * c["d"] * c["vocab"])


@workload(name="gpt", unit="step", samples=_GPT["seq"] * _GPT["batch"], flops=_gpt_flops(),
          description="decoder-only Transformer (vocab 256, d 128, 4 layers, 4 heads, seq 128, batch 16), AdamW")
def build_gpt(torch):
    torch.manual_seed(0)
    nn = torch.nn
    F = nn.functional
    c = _GPT

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(c["d"])
            self.qkv = nn.Linear(c["d"], 3 * c["d"])
            self.proj = nn.Linear(c["d"], c["d"])
            self.ln2 = nn.LayerNorm(c["d"])
            self.fc1 = nn.Linear(c["d"], 4 * c["d"])
            self.fc2 = nn.Linear(4 * c["d"], c["d"])

        def forward(self, x, mask):
            B, T, C = x.shape
            h = c["heads"]
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q = q.view(B, T, h, C // h).transpose(1, 2)
            k = k.view(B, T, h, C // h).transpose(1, 2)
            v = v.view(B, T, h, C // h).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // h))
            att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            x = x + self.proj(y)
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(c["vocab"], c["d"])
            self.pos = nn.Embedding(c["seq"], c["d"])
            self.blocks = nn.ModuleList([Block() for _ in range(c["layers"])])
            self.ln_f = nn.LayerNorm(c["d"])
            self.head = nn.Linear(c["d"], c["vocab"], bias=False)
            self.register_buffer("mask", torch.ones(c["seq"], c["seq"]).triu(1).bool())
            self.register_buffer("positions", torch.arange(c["seq"]))

        def forward(self, idx):
            x = self.tok(idx) + self.pos(self.positions)
            for block in self.blocks:
                x = block(x, self.mask)
            return self.head(self.ln_f(x))

    model = GPT()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    rng = _rng()
    seqs = [torch.from_numpy(rng.integers(0, c["vocab"], (c["batch"], c["seq"] + 1)).astype(np.int64))
            for _ in range(2)]
    state = {"i": 0}

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


# ------------------------------------------------------------------ inference and data
@workload(name="infer1", unit="call", samples=1, flops=_linear_flops(1, 784, 128, 10),
          description="batch-1 inference of the 784-128-10 MLP under no_grad", kind="infer")
def build_infer1(torch):
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).eval()
    x = torch.from_numpy(_rng().standard_normal((1, 784)).astype(np.float32))

    def step():
        with torch.no_grad():
            return model(x)
    return step


_DATA = dict(n=2048, batch=64, workers=2)


@workload(name="dataloader", unit="epoch", samples=_DATA["n"], flops=0.0, kind="data", uses_workers=True,
          description="DataLoader over 2048 CIFAR-shaped uint8 images: random crop + flip + normalize, "
                      "batch 64, 2 workers, shuffle")
def build_dataloader(torch):
    data = torch.utils.data
    rng = _rng()
    images = rng.integers(0, 256, (_DATA["n"], 3, 40, 40), dtype=np.uint8)  # stored pre-padded by 4
    labels = rng.integers(0, 10, _DATA["n"]).astype(np.int64)
    mean = torch.tensor([0.49, 0.48, 0.45]).view(3, 1, 1)
    std = torch.tensor([0.25, 0.24, 0.26]).view(3, 1, 1)

    class Augmented(data.Dataset):
        def __len__(self):
            return _DATA["n"]

        def __getitem__(self, i):
            img = torch.from_numpy(images[i])
            top, left = (int(v) for v in torch.randint(0, 9, (2,)))
            img = img[:, top:top + 32, left:left + 32].float().div(255)
            if torch.rand(1).item() < 0.5:
                img = img.flip(2)
            return (img - mean) / std, int(labels[i])

    loader = data.DataLoader(Augmented(), batch_size=_DATA["batch"], shuffle=True, num_workers=_DATA["workers"])

    def step():
        n = 0
        for x, y in loader:
            n += x.shape[0]
        assert n == _DATA["n"], n
        return n
    return step


# ------------------------------------------------------------------ micro-benchmarks (no nn)
_MICRO_OPS = 100
_MICRO_SHAPE = (16, 16)


def _micro_inputs(torch, requires_grad):
    rng = _rng()
    a = torch.from_numpy(rng.standard_normal(_MICRO_SHAPE).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal(_MICRO_SHAPE).astype(np.float32))
    if requires_grad:
        a.requires_grad_(True)
    return a, b


@workload(name="op_nograd", unit="op", samples=_MICRO_OPS, flops=256.0 * _MICRO_OPS, kind="micro",
          description="per-op overhead: a * b on 16x16 float32, no grad")
def build_op_nograd(torch):
    a, b = _micro_inputs(torch, False)

    def step():
        for _ in range(_MICRO_OPS):
            a * b
    return step


@workload(name="op_grad", unit="op", samples=_MICRO_OPS, flops=256.0 * _MICRO_OPS, kind="micro",
          description="per-op overhead: a * b on 16x16 float32, a.requires_grad (records the graph)")
def build_op_grad(torch):
    a, b = _micro_inputs(torch, True)

    def step():
        for _ in range(_MICRO_OPS):
            a * b
    return step


@workload(name="op_backward", unit="op", samples=_MICRO_OPS, flops=768.0 * _MICRO_OPS, kind="micro",
          description="per-op overhead: y = a * b forward + y.backward(g), 16x16 float32")
def build_op_backward(torch):
    a, b = _micro_inputs(torch, True)
    g = torch.ones(*_MICRO_SHAPE)

    def step():
        for _ in range(_MICRO_OPS):
            (a * b).backward(g)
        a.grad = None
    return step


@workload(name="raw_mlp", unit="step", samples=64, flops=3 * _linear_flops(64, 784, 128, 10), kind="micro",
          description="784-128-10 MLP forward+backward at batch 64 with raw tensor ops (no nn)")
def build_raw_mlp(torch):
    rng = _rng()

    def param(*shape, scale):
        return torch.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32)).requires_grad_()

    w1, b1 = param(784, 128, scale=784 ** -0.5), param(128, scale=0.01)
    w2, b2 = param(128, 10, scale=128 ** -0.5), param(10, scale=0.01)
    params = (w1, b1, w2, b2)
    x = torch.from_numpy(rng.standard_normal((64, 784)).astype(np.float32))
    onehot = torch.from_numpy(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)])

    def step():
        h = (x @ w1 + b1).clamp(min=0)
        logits = h @ w2 + b2
        logp = logits - logits.logsumexp(1, keepdim=True)
        loss = -(logp * onehot).sum() / 64
        loss.backward()
        for p in params:
            p.grad = None
        return loss
    return step


# micro-benchmarks run _MICRO_OPS ops per step (samples and flops count all of them); the table's
# rate is per op
OPS_PER_STEP = {"op_nograd": _MICRO_OPS, "op_grad": _MICRO_OPS, "op_backward": _MICRO_OPS}
