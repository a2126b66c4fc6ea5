"""The main job, python -m ember.examples.digits: CLI, outputs under --out only, MNIST-format data via --root."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("PIL")
pytest.importorskip("sklearn")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(args, cwd):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    return subprocess.run([sys.executable, "-m", "ember.examples.digits"] + args, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)


def test_help_lists_the_options(tmp_path):
    out = run(["--help"], str(tmp_path))
    assert out.returncode == 0
    for flag in ("--epochs", "--batch-size", "--lr", "--device", "--out", "--data", "--root", "--num-workers"):
        assert flag in out.stdout
    assert os.listdir(str(tmp_path)) == []


def test_one_epoch_writes_only_under_out(tmp_path):
    out = run(["--epochs", "1", "--batch-size", "128", "--out", "result", "--no-progress"], str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert os.listdir(str(tmp_path)) == ["result"]
    files = set(os.listdir(str(tmp_path / "result")))
    assert {"curves.png", "misclassified.png", "metrics.json", "model.pt"} <= files
    metrics = json.load(open(str(tmp_path / "result" / "metrics.json")))
    assert metrics["history"][0]["test_acc"] > 0.5  # one epoch already learns most digits
    assert "test accuracy" in out.stdout


def test_mnist_format_data(tmp_path):
    sys.path.insert(0, os.path.dirname(__file__))
    from test_datasets import make_mnist
    make_mnist(str(tmp_path / "data"), n=40)
    out = run(["--data", "mnist", "--root", "data", "--epochs", "1", "--out", "m", "--no-progress"], str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "mnist: 40 train / 38 test images" in out.stdout
