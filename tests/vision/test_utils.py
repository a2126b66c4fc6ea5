"""make_grid / save_image / draw_bounding_boxes against torchvision (optional) and against NumPy layouts."""
import numpy as np
import pytest

import ember
from ember.vision import utils as U
from _tv import needs_torchvision, torchvision
from oracle import torch

PIL = pytest.importorskip("PIL.Image")
RNG = np.random.default_rng(0)
BATCH = RNG.random((5, 3, 4, 6), dtype=np.float32)


def test_make_grid_layout():
    grid = U.make_grid(ember.from_numpy(BATCH), nrow=2, padding=1, pad_value=0.5).numpy()
    assert grid.shape == (3, 3 * 5 + 1, 2 * 7 + 1)
    np.testing.assert_array_equal(grid[:, 1:5, 1:7], BATCH[0])
    np.testing.assert_array_equal(grid[:, 6:10, 8:14], BATCH[3])  # row 1, column 1
    assert np.all(grid[:, 0, :] == 0.5) and np.all(grid[:, 11:15, 8:14] == 0.5)  # padding and the empty cell
    gray = U.make_grid(ember.from_numpy(BATCH[:, :1]), nrow=5)
    assert gray.shape[0] == 3
    single = U.make_grid(ember.from_numpy(BATCH[:1]))
    assert single.shape == (3, 4, 6)
    norm = U.make_grid(ember.from_numpy(BATCH * 4 - 1), normalize=True).numpy()
    assert norm.min() == 0.0 and abs(norm.max() - 1.0) < 1e-6


@needs_torchvision
@pytest.mark.parametrize("kwargs", [dict(), dict(nrow=3, padding=0), dict(normalize=True, scale_each=True),
                                    dict(normalize=True, value_range=(0.2, 0.8), pad_value=1.0)])
def test_make_grid_matches_torchvision(kwargs):
    e = U.make_grid(ember.from_numpy(BATCH), **kwargs).numpy()
    t = torchvision.utils.make_grid(torch.from_numpy(BATCH), **kwargs).numpy()
    np.testing.assert_allclose(e, t, atol=1e-6)


def test_save_image_roundtrip(tmp_path):
    path = str(tmp_path / "grid.png")
    U.save_image(ember.from_numpy(BATCH), path, nrow=5, padding=0)
    saved = np.asarray(PIL.open(path))
    expected = np.clip(BATCH * 255 + 0.5, 0, 255).astype(np.uint8).transpose(2, 0, 3, 1).reshape(4, 30, 3)
    np.testing.assert_array_equal(saved, expected)


def test_draw_bounding_boxes():
    img = ember.zeros(3, 10, 12, dtype=ember.uint8)
    out = U.draw_bounding_boxes(img, ember.tensor([[1, 2, 6, 8]]), colors="red").numpy()
    assert out.dtype == np.uint8 and out.shape == (3, 10, 12)
    assert tuple(out[:, 2, 3]) == (255, 0, 0) and tuple(out[:, 8, 1]) == (255, 0, 0)  # top and bottom edges
    assert tuple(out[:, 5, 3]) == (0, 0, 0)  # inside stays untouched without fill
    filled = U.draw_bounding_boxes(img, ember.tensor([[1, 2, 6, 8]]), colors=(0, 255, 0), fill=True).numpy()
    assert filled[1, 5, 3] > 0 and filled[0, 5, 3] == 0
    gray = U.draw_bounding_boxes(ember.zeros(1, 10, 12, dtype=ember.uint8), ember.tensor([[0, 0, 3, 3]]),
                                 labels=["a"])
    assert gray.shape == (3, 10, 12)
    with pytest.raises(ValueError, match="The image dtype must be uint8"):
        U.draw_bounding_boxes(ember.zeros(3, 4, 4), ember.tensor([[0, 0, 1, 1]]))
    with pytest.raises(ValueError, match=r"Boxes need to be in \(xmin, ymin, xmax, ymax\) format"):
        U.draw_bounding_boxes(img, ember.tensor([[5, 0, 1, 1]]))


@needs_torchvision
def test_draw_bounding_boxes_matches_torchvision():
    img = RNG.integers(0, 256, (3, 20, 24), dtype=np.uint8)
    boxes = np.array([[1, 2, 10, 12], [5, 5, 20, 18]])
    for kw in [dict(), dict(colors=["red", (0, 0, 255)], width=2), dict(fill=True, colors="yellow")]:
        e = U.draw_bounding_boxes(ember.from_numpy(img), ember.from_numpy(boxes), **kw).numpy()
        t = torchvision.utils.draw_bounding_boxes(torch.from_numpy(img), torch.from_numpy(boxes), **kw).numpy()
        np.testing.assert_array_equal(e, t)
