"""Classifying variable-length sequences: packed sequences for an LSTM, padding masks for a Transformer.

Each sequence (length 4 to 40) is drawn around a hidden class: half its tokens come from that class's
token range, the rest are uniform noise; the label is the class. Batches are padded with
``pad_sequence``. The LSTM reads them as a ``PackedSequence`` (``pack_padded_sequence`` with
``enforce_sorted=False``), so padding never enters its state; the Transformer encoder gets a
``src_key_padding_mask`` and pools only the real positions. A plain PyTorch program:
``--framework torch`` runs it on PyTorch.

    python examples/seq_classify.py --model lstm
    python examples/seq_classify.py --model transformer
"""
import argparse
import importlib
import sys

import numpy as np

PAD = 0


def make_data(n, num_classes, tokens_per_class, rng, min_len=4, max_len=40):
    """Lists of token arrays (ids from 1; 0 is padding) and their labels."""
    vocab = num_classes * tokens_per_class
    labels = rng.integers(0, num_classes, n)
    seqs = []
    for c in labels:
        length = int(rng.integers(min_len, max_len + 1))
        own = rng.integers(c * tokens_per_class, (c + 1) * tokens_per_class, length)
        noise = rng.integers(0, vocab, length)
        seqs.append(np.where(rng.random(length) < 0.5, own, noise) + 1)
    return seqs, labels.astype(np.int64)


def build_model(torch, kind, vocab, num_classes, hidden):
    nn = torch.nn
    rnn_utils = nn.utils.rnn

    class PackedLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden, padding_idx=PAD)
            self.rnn = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, num_classes)

        def forward(self, tokens, lengths):
            packed = rnn_utils.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                    enforce_sorted=False)
            _, (h, _) = self.rnn(packed)  # final states of each sequence's last real step
            return self.head(torch.cat([h[0], h[1]], dim=1))

    class MaskedTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden, padding_idx=PAD)
            layer = nn.TransformerEncoderLayer(hidden, 4, 2 * hidden, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(hidden, num_classes)

        def forward(self, tokens, lengths):
            pad = tokens == PAD
            h = self.encoder(self.embed(tokens), src_key_padding_mask=pad)
            keep = (~pad).unsqueeze(-1).to(h.dtype)
            pooled = (h * keep).sum(1) / keep.sum(1)  # mean over real positions only
            return self.head(pooled)

    return PackedLSTM() if kind == "lstm" else MaskedTransformer()


def collate(torch, seqs):
    pad_sequence = torch.nn.utils.rnn.pad_sequence
    tokens = pad_sequence([torch.from_numpy(s) for s in seqs], batch_first=True, padding_value=PAD)
    return tokens, torch.tensor([len(s) for s in seqs])


def accuracy(torch, model, seqs, labels, batch_size=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(seqs), batch_size):
            tokens, lengths = collate(torch, seqs[i:i + batch_size])
            pred = model(tokens, lengths).argmax(1).numpy()
            correct += int((pred == labels[i:i + batch_size]).sum())
    model.train()
    return correct / len(seqs)


def main(argv=None):
    p = argparse.ArgumentParser(description="Variable-length sequence classification (packing and masks).")
    p.add_argument("--model", choices=["lstm", "transformer"], default="lstm")
    p.add_argument("--framework", default="ember", help="ember (default) or torch")
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--train", type=int, default=4000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (small models run best on 1)")
    args = p.parse_args(argv)

    torch = importlib.import_module(args.framework)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    tokens_per_class = 4
    train_x, train_y = make_data(args.train, args.classes, tokens_per_class, rng)
    test_x, test_y = make_data(args.test, args.classes, tokens_per_class, rng)
    vocab = args.classes * tokens_per_class + 1
    model = build_model(torch, args.model, vocab, args.classes, args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(train_x))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            tokens, lengths = collate(torch, [train_x[j] for j in idx])
            loss = loss_fn(model(tokens, lengths), torch.from_numpy(train_y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        acc = accuracy(torch, model, test_x, test_y)
        print(f"epoch {epoch}  train loss {total / len(order):.3f}  test accuracy {acc:.3f} "
              f"(chance {1 / args.classes:.2f})", flush=True)
    return {"accuracy": acc, "model": model}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
