"""Train a small CNN on real handwritten digits with ember, exactly as one would with PyTorch.

The default data are the 1,797 8x8 digits that ship inside scikit-learn (no download), split 80/20 by a fixed
seed. ``--data mnist --root DIR`` (or fashionmnist) trains on MNIST-format IDX files found in DIR/MNIST/raw.

    pip install -e .[vision]
    python -m ember.examples.digits --out runs/digits

Everything written goes under --out: the checkpoint (model.pt), metrics.json, curves.png (loss and accuracy
per epoch) and misclassified.png (test digits the model got wrong, with predicted and true labels).
"""
import sys

sys.dont_write_bytecode = True  # "writes nothing outside --out": no __pycache__ next to the sources either

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import ember as torch  # noqa: E402  (the point: this is a PyTorch program)
from ember import nn  # noqa: E402
from ember.utils.data import DataLoader  # noqa: E402
from ember.vision import datasets, transforms, utils as vutils  # noqa: E402


class DigitNet(nn.Module):
    """Two 3x3 conv blocks, a 2x2 max-pool, then a small MLP; adaptive pooling makes it input-size agnostic."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2), nn.AdaptiveAvgPool2d((4, 4)))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 4 * 4, 128), nn.ReLU(),
                                        nn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def load_data(args):
    if args.data == "digits":
        # 8x8 digits with 17 grey levels: mean/std of the training pixels after ToTensor
        norm = transforms.Normalize((0.3050,), (0.3757,))
        train = datasets.Digits(train=True, split_seed=args.seed,
                                transform=transforms.Compose([transforms.RandomAffine(8, translate=(0.08, 0.08)),
                                                              transforms.ToTensor(), norm]))
        test = datasets.Digits(train=False, split_seed=args.seed,
                               transform=transforms.Compose([transforms.ToTensor(), norm]))
        return train, test
    if args.root is None:
        raise SystemExit(f"--data {args.data} needs --root DIR (the folder holding {args.data.upper()}/raw)")
    cls = {"mnist": datasets.MNIST, "fashionmnist": datasets.FashionMNIST}[args.data]
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    return cls(args.root, train=True, transform=tf), cls(args.root, train=False, transform=tf)


def progress(epoch, epochs, step, steps, loss, acc, width=24):
    done = int(width * step / steps)
    bar = "#" * done + "-" * (width - done)
    sys.stderr.write(f"\repoch {epoch:>2}/{epochs} [{bar}] {step:>3}/{steps} loss {loss:.4f} acc {acc:6.2%}")
    sys.stderr.flush()


def train_epoch(model, loader, opt, loss_fn, device, epoch, epochs, show):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for step, (x, y) in enumerate(loader, 1):
        x, y = x.to(device), y.to(device)
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        seen += len(y)
        if show:
            progress(epoch, epochs, step, len(loader), total_loss / seen, correct / seen)
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(model, loader, loss_fn, device):
    model.eval()
    total_loss, preds, targets = 0.0, [], []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        total_loss += loss_fn(out, y).item() * len(y)
        preds.append(out.argmax(1))
        targets.append(y)
    preds, targets = torch.cat(preds), torch.cat(targets)
    return total_loss / len(targets), (preds == targets).float().mean().item(), preds, targets


def draw_curves(history, path):
    """Loss (left) and accuracy (right) per epoch, drawn with Pillow (no plotting library needed)."""
    from PIL import Image, ImageDraw
    w, h, pad = 360, 240, 36
    img = Image.new("RGB", (2 * w, h), "white")
    draw = ImageDraw.Draw(img)
    panels = [("loss", ["train_loss", "test_loss"]), ("accuracy", ["train_acc", "test_acc"])]
    colours = {"train": (31, 119, 180), "test": (214, 39, 40)}
    epochs = len(history)
    for p, (title, keys) in enumerate(panels):
        x0 = p * w
        values = [e[k] for e in history for k in keys]
        lo, hi = min(values), max(values)
        hi = hi if hi > lo else lo + 1e-6
        draw.rectangle([x0 + pad, pad // 2, x0 + w - 10, h - pad], outline="black")
        draw.text((x0 + pad, 2), f"{title}  ({lo:.3g} .. {hi:.3g})", fill="black")
        draw.text((x0 + pad, h - pad + 4), f"epoch 1 .. {epochs}", fill="black")
        for k in keys:
            pts = []
            for i, e in enumerate(history):
                fx = (i / max(epochs - 1, 1))
                fy = (e[k] - lo) / (hi - lo)
                pts.append((x0 + pad + fx * (w - pad - 10), (h - pad) - fy * (h - pad - pad // 2)))
            colour = colours[k.split("_")[0]]
            if len(pts) > 1:
                draw.line(pts, fill=colour, width=2)
            for px, py in pts:
                draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=colour)
            draw.text((x0 + w - 60, pad if k.startswith("train") else pad + 12), k.split("_")[0], fill=colour)
    img.save(path)


def draw_misclassified(dataset, preds, targets, path, limit=40, scale=6):
    """Grid of wrongly classified test images, each captioned 'p<predicted> t<true>'."""
    from PIL import Image, ImageDraw
    wrong = (preds != targets).nonzero().flatten().tolist()[:limit]
    raw = dataset.data  # uint8 (N, H, W): the images before normalisation
    cell_h = raw.shape[1] * scale
    cell_w = max(raw.shape[2] * scale, 48)
    cols = 10
    rows = max(1, -(-len(wrong) // cols))
    canvas = Image.new("RGB", (cols * (cell_w + 4) + 4, rows * (cell_h + 18) + 4), "white")
    draw = ImageDraw.Draw(canvas)
    if not wrong:
        draw.text((4, 4), "no misclassified test images", fill="black")
    for k, i in enumerate(wrong):
        # make_grid handles the uint8 -> 3-channel conversion; upscale with nearest-neighbour for visibility
        tile = vutils.make_grid(raw[i].unsqueeze(0).float() / 255)
        arr = (tile.permute(1, 2, 0).numpy() * 255).astype("uint8")
        im = Image.fromarray(arr).resize((cell_w, cell_h), Image.Resampling.NEAREST)
        r, c = divmod(k, cols)
        x, y = 4 + c * (cell_w + 4), 4 + r * (cell_h + 18)
        canvas.paste(im, (x, y))
        draw.text((x, y + cell_h + 2), f"p{int(preds[i])} t{int(targets[i])}", fill=(200, 0, 0))
    canvas.save(path)
    return len(wrong)


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a CNN on handwritten digits with ember (PyTorch's API).")
    p.add_argument("--data", choices=["digits", "mnist", "fashionmnist"], default="digits",
                   help="digits: scikit-learn's bundled 8x8 digits (default); mnist/fashionmnist: IDX files in --root")
    p.add_argument("--root", default=None, help="folder holding MNIST/raw or FashionMNIST/raw (for --data mnist)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (cosine-annealed to 0)")
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0, help="seeds the train/test split, the init and the shuffling")
    p.add_argument("--out", default="runs/digits", help="output folder (checkpoint, metrics, PNGs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, one line per epoch only")
    args = p.parse_args(argv)

    start = time.perf_counter()
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    device = torch.device(args.device)
    train_set, test_set = load_data(args)
    loader_gen = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.num_workers,
                              generator=loader_gen, persistent_workers=args.num_workers > 0)
    test_loader = DataLoader(test_set, batch_size=256, num_workers=args.num_workers,
                             persistent_workers=args.num_workers > 0)
    model = DigitNet().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    print(f"{args.data}: {len(train_set)} train / {len(test_set)} test images, "
          f"{sum(p.numel() for p in model.parameters())} parameters, {args.num_workers} loader workers")

    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        train_loss, train_acc = train_epoch(model, train_loader, opt, loss_fn, device, epoch, args.epochs,
                                            not args.no_progress)
        sched.step()
        test_loss, test_acc, preds, targets = evaluate(model, test_loader, loss_fn, device)
        history.append(dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
                            test_acc=test_acc))
        if not args.no_progress:
            sys.stderr.write("\r" + " " * 78 + "\r")
        print(f"epoch {epoch:>2}/{args.epochs}  train loss {train_loss:.4f} acc {train_acc:6.2%}  "
              f"test loss {test_loss:.4f} acc {test_acc:6.2%}  ({time.perf_counter() - t0:.1f}s)", flush=True)

    elapsed = time.perf_counter() - start
    ckpt = os.path.join(args.out, "model.pt")
    if hasattr(torch, "save"):
        torch.save({"model": model.state_dict(), "epochs": args.epochs, "test_acc": history[-1]["test_acc"]}, ckpt)
    else:  # ember.save not available in this build
        ckpt = None
    draw_curves(history, os.path.join(args.out, "curves.png"))
    n_wrong = draw_misclassified(test_set, preds, targets, os.path.join(args.out, "misclassified.png"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"history": history, "seconds": elapsed, "args": vars(args)}, f, indent=1)
    print(f"test accuracy {history[-1]['test_acc']:.2%} ({n_wrong} of {len(test_set)} wrong) in {elapsed:.1f}s; "
          f"checkpoint: {ckpt or 'not saved (ember.save missing)'}; curves.png and misclassified.png in {args.out}")
    return history[-1]["test_acc"]


if __name__ == "__main__":
    main()
