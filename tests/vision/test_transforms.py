"""ember.vision.transforms against torchvision (where importable) and against Pillow/NumPy formulas (always).

Formula sources for the torchvision-free checks: torchvision/transforms/_functional_tensor.py and
_functional_pil.py (grayscale = 0.2989 R + 0.587 G + 0.114 B truncated; brightness = clamp(f * x);
to_tensor = HWC uint8 / 255 -> CHW; PIL paths call Pillow's own resize/rotate/ImageEnhance), and torchvision's
documentation that antialiased tensor resize matches PIL's resize to within 1 on uint8 images.
"""
import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F
from _tv import needs_torchvision, TF, TT
from oracle import torch

PIL = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(0)
U8 = RNG.integers(0, 256, (3, 13, 17), dtype=np.uint8)
F32 = RNG.random((2, 3, 13, 17), dtype=np.float32)
IMG = PIL.fromarray(U8.transpose(1, 2, 0))


def as_np(x):
    if isinstance(x, ember.Tensor):
        return x.numpy()
    if torch is not None and isinstance(x, torch.Tensor):
        return x.numpy()
    return np.asarray(x)


def inputs():
    return [("uint8", lambda lib: lib.from_numpy(U8.copy())), ("float32", lambda lib: lib.from_numpy(F32.copy())),
            ("pil", lambda lib: IMG)]


CASES = {
    "resize": (lambda f, x: f.resize(x, [7, 9]), 1),
    "resize_up": (lambda f, x: f.resize(x, [20, 30]), 1),
    "resize_short_edge": (lambda f, x: f.resize(x, 6), 1),
    "resize_nearest": (lambda f, x: f.resize(x, [7, 9], f.InterpolationMode.NEAREST), 0),
    "resize_bicubic": (lambda f, x: f.resize(x, [7, 9], f.InterpolationMode.BICUBIC), 1),
    "center_crop": (lambda f, x: f.center_crop(x, [5, 8]), 0),
    "center_crop_pads": (lambda f, x: f.center_crop(x, [16, 20]), 0),
    "crop_outside": (lambda f, x: f.crop(x, -2, 3, 6, 20), 0),
    "pad_constant": (lambda f, x: f.pad(x, [1, 2, 3, 4], 7), 0),
    "pad_edge": (lambda f, x: f.pad(x, [1, 2], 0, "edge"), 0),
    "pad_reflect": (lambda f, x: f.pad(x, 2, 0, "reflect"), 0),
    "pad_symmetric": (lambda f, x: f.pad(x, [3, 1, 0, 2], 0, "symmetric"), 0),
    "hflip": (lambda f, x: f.hflip(x), 0),
    "vflip": (lambda f, x: f.vflip(x), 0),
    "rotate": (lambda f, x: f.rotate(x, 30), 0),
    "rotate_90": (lambda f, x: f.rotate(x, 90), 0),
    "rotate_bilinear": (lambda f, x: f.rotate(x, 30, f.InterpolationMode.BILINEAR), 1),
    "rotate_expand": (lambda f, x: f.rotate(x, 30, expand=True), 0),
    "affine": (lambda f, x: f.affine(x, 10, [2, -1], 1.1, [5, 3]), 0),
    "perspective": (lambda f, x: f.perspective(x, [[0, 0], [16, 0], [16, 12], [0, 12]],
                                               [[1, 2], [15, 0], [14, 12], [2, 11]]), 1),
    "brightness": (lambda f, x: f.adjust_brightness(x, 1.3), 1),
    "contrast": (lambda f, x: f.adjust_contrast(x, 0.6), 1),
    "saturation": (lambda f, x: f.adjust_saturation(x, 1.7), 1),
    "hue": (lambda f, x: f.adjust_hue(x, 0.2), 1),
    "gamma": (lambda f, x: f.adjust_gamma(x, 0.8), 1),
    "sharpness": (lambda f, x: f.adjust_sharpness(x, 1.8), 1),
    "grayscale": (lambda f, x: f.rgb_to_grayscale(x), 1),
    "grayscale3": (lambda f, x: f.rgb_to_grayscale(x, 3), 1),
    "blur": (lambda f, x: f.gaussian_blur(x, [3, 5], [0.8, 1.2]), 1),
    "invert": (lambda f, x: f.invert(x), 0),
    "autocontrast": (lambda f, x: f.autocontrast(x), 1),
}
UINT8_ONLY = {"equalize": (lambda f, x: f.equalize(x), 0), "posterize": (lambda f, x: f.posterize(x, 3), 0),
              "solarize": (lambda f, x: f.solarize(x, 100), 0)}


@needs_torchvision
@pytest.mark.parametrize("name", sorted(CASES) + sorted(UINT8_ONLY))
@pytest.mark.parametrize("kind", ["uint8", "float32", "pil"])
def test_functional_matches_torchvision(name, kind):
    fn, tol = {**CASES, **UINT8_ONLY}[name]
    if name in UINT8_ONLY and kind == "float32":
        pytest.skip("uint8-only op")
    make = dict((k, m) for k, m in inputs())[kind]
    e, t = fn(F, make(ember)), fn(TF, make(torch))
    assert type(e).__name__ == type(t).__name__ or kind != "pil"
    a, b = as_np(e).astype(np.float64), as_np(t).astype(np.float64)
    assert a.shape == b.shape
    scale = 1.0 if kind != "float32" else 1e-5
    assert np.abs(a - b).max() <= tol * scale + 1e-6, name


@needs_torchvision
def test_conversions_match_torchvision():
    np.testing.assert_array_equal(F.to_tensor(IMG).numpy(), TF.to_tensor(IMG).numpy())
    np.testing.assert_array_equal(F.pil_to_tensor(IMG).numpy(), TF.pil_to_tensor(IMG).numpy())
    for arr in (F32[0], U8):
        e = F.to_pil_image(ember.from_numpy(arr.copy()))
        t = TF.to_pil_image(torch.from_numpy(arr.copy()))
        assert e.mode == t.mode and np.array_equal(np.asarray(e), np.asarray(t))
    for src, dst, edt in [(U8, torch.float32, ember.float32), (F32, torch.uint8, ember.uint8)]:
        np.testing.assert_allclose(F.convert_image_dtype(ember.from_numpy(src.copy()), edt).numpy(),
                                   TF.convert_image_dtype(torch.from_numpy(src.copy()), dst).numpy(), atol=1e-7)


# --- checks that need only Pillow and NumPy ---------------------------------------------------------------

def test_to_tensor_and_back():
    t = T.ToTensor()(IMG)
    assert t.shape == (3, 13, 17) and t.dtype == ember.float32
    np.testing.assert_allclose(t.numpy(), U8 / np.float32(255), rtol=1e-6)
    assert np.array_equal(np.asarray(T.ToPILImage()(T.PILToTensor()(IMG))), np.asarray(IMG))
    gray = PIL.fromarray(U8[0])
    assert T.ToTensor()(gray).shape == (1, 13, 17)
    np.testing.assert_allclose(T.ToTensor()(U8.transpose(1, 2, 0).copy()).numpy(), U8 / 255.0, rtol=1e-6)


def test_tensor_resize_matches_pillow_within_one():
    for size in [(7, 9), (26, 30), (13, 5)]:
        e = F.resize(ember.from_numpy(U8.copy()), list(size)).numpy().astype(int)
        p = np.asarray(IMG.resize(size[::-1], PIL.Resampling.BILINEAR)).transpose(2, 0, 1).astype(int)
        assert np.abs(e - p).max() <= 1, size


def test_resize_short_edge_and_max_size():
    assert F.resize(IMG, 6).size == (7, 6)            # width 17*6/13 = 7.8 -> 7
    assert F.resize(ember.zeros(3, 10, 40), 5, max_size=12).shape == (3, 3, 12)
    with pytest.raises(ValueError, match="max_size = 4 must be strictly greater"):
        F.resize(IMG, 5, max_size=4)


def test_geometry_against_numpy():
    x = ember.from_numpy(F32.copy())
    np.testing.assert_array_equal(F.hflip(x).numpy(), F32[..., ::-1])
    np.testing.assert_array_equal(F.vflip(x).numpy(), F32[..., ::-1, :])
    np.testing.assert_array_equal(F.center_crop(x, 5).numpy(), F32[..., 4:9, 6:11])
    np.testing.assert_array_equal(F.pad(x, [1, 2], 0, "reflect").numpy(),
                                  np.pad(F32, [(0, 0), (0, 0), (2, 2), (1, 1)], mode="reflect"))
    sq = RNG.random((1, 7, 7), dtype=np.float32)
    np.testing.assert_array_equal(F.rotate(ember.from_numpy(sq), 90).numpy(), np.rot90(sq, 1, axes=(1, 2)))
    np.testing.assert_array_equal(np.asarray(F.rotate(IMG, 45)), np.asarray(IMG.rotate(45)))


def test_colour_against_formulas():
    x = ember.from_numpy(U8.copy())
    r, g, b = U8.astype(np.float32)
    np.testing.assert_array_equal(F.rgb_to_grayscale(x).numpy()[0], (0.2989 * r + 0.587 * g + 0.114 * b)
                                  .astype(np.uint8))
    np.testing.assert_array_equal(F.adjust_brightness(x, 1.5).numpy(),
                                  np.clip(1.5 * U8.astype(np.float32), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(F.invert(x).numpy(), 255 - U8)
    np.testing.assert_array_equal(F.posterize(x, 2).numpy(), U8 & 0b11000000)
    from PIL import ImageEnhance
    np.testing.assert_array_equal(np.asarray(F.adjust_contrast(IMG, 0.5)),
                                  np.asarray(ImageEnhance.Contrast(IMG).enhance(0.5)))
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    np.testing.assert_allclose(F.normalize(ember.from_numpy(F32.copy()), mean, std).numpy(),
                               (F32 - np.reshape(mean, (3, 1, 1))) / np.reshape(std, (3, 1, 1)), atol=1e-6)


def test_gaussian_blur_against_explicit_kernel():
    img = np.zeros((1, 9, 9), dtype=np.float32)
    img[0, 4, 4] = 1.0
    out = F.gaussian_blur(ember.from_numpy(img), 5, 1.0).numpy()[0]
    k = np.exp(-0.5 * np.arange(-2, 3) ** 2)
    k /= k.sum()
    np.testing.assert_allclose(out[2:7, 2:7], np.outer(k, k), rtol=1e-5)
    assert F.gaussian_blur(IMG, 3).size == IMG.size


def test_random_transforms_shapes_and_reproducibility():
    pipeline = T.Compose([T.RandomResizedCrop(8), T.RandomHorizontalFlip(), T.RandomVerticalFlip(),
                          T.RandomRotation(20), T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
                          T.RandomPerspective(p=1.0), T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomGrayscale(0.5),
                          T.GaussianBlur(3), T.RandomCrop(6, padding=1, pad_if_needed=True),
                          T.RandomApply([T.Pad(1)], p=0.5), T.RandomChoice([T.Resize(6), T.CenterCrop(6)]),
                          T.RandomOrder([T.Grayscale(3), T.Lambda(lambda im: im)])])
    for img in (IMG, ember.from_numpy(U8.copy()), ember.from_numpy(F32.copy())):
        ember.manual_seed(3)
        a = as_np(pipeline(img))
        ember.manual_seed(3)
        b = as_np(pipeline(img))
        np.testing.assert_array_equal(a, b)
        assert a.shape[-2:] == (6, 6) or a.shape[:2] == (6, 6)


def test_random_crop_is_a_window_and_erasing_erases():
    x = ember.from_numpy(F32[0].copy())
    ember.manual_seed(0)
    out = T.RandomCrop(5)(x).numpy()
    windows = [(i, j) for i in range(9) for j in range(13) if np.array_equal(F32[0][:, i:i + 5, j:j + 5], out)]
    assert len(windows) == 1
    erased = T.RandomErasing(p=1.0, value=0.5)(x).numpy()
    changed = erased != F32[0]
    assert changed.any() and np.all(erased[changed] == 0.5)
    noise = T.RandomErasing(p=1.0, value="random")(x)
    assert noise.shape == x.shape
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=2)


@pytest.mark.parametrize("aug", [T.AutoAugment(), T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
                                 T.AutoAugment(T.AutoAugmentPolicy.SVHN), T.RandAugment(), T.TrivialAugmentWide()])
def test_auto_augment_family_runs_on_pil_and_uint8(aug):
    ember.manual_seed(1)
    for _ in range(8):
        out = aug(ember.from_numpy(U8.copy()))
        assert out.shape == (3, 13, 17) and out.dtype == ember.uint8
        assert aug(IMG).size == IMG.size


def test_all_autoaugment_ops_apply():
    from ember.vision.transforms.autoaugment import _apply_op
    ops = ["ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color", "Contrast", "Sharpness",
           "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert", "Identity"]
    for op in ops:
        mag = 4.0 if op == "Posterize" else 0.3
        e = _apply_op(ember.from_numpy(U8.copy()), op, mag, T.InterpolationMode.NEAREST, [0.0, 0.0, 0.0])
        p = _apply_op(IMG, op, mag, T.InterpolationMode.NEAREST, None)
        assert e.shape == (3, 13, 17) and p.size == IMG.size
    with pytest.raises(ValueError, match="is not recognized"):
        _apply_op(IMG, "Nope", 0.0, T.InterpolationMode.NEAREST, None)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        F.adjust_hue(IMG, 0.7)
    with pytest.raises(ValueError, match="brightness values should be between"):
        T.ColorJitter(brightness=(2, 1))
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.hflip(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"Required crop size \(20, 20\) is larger than input image size"):
        T.RandomCrop(20)(IMG)
    with pytest.raises(ValueError, match="kernel_size should have odd and positive integers"):
        F.gaussian_blur(IMG, 4)


@needs_torchvision
def test_reprs_match_torchvision():
    cases = [("Resize", (32,), {}), ("CenterCrop", (8,), {}), ("RandomCrop", (8, 2), {}),
             ("Normalize", ([0.5], [0.5]), {}), ("ColorJitter", (0.4, 0.4, 0.4, 0.1), {}),
             ("RandomHorizontalFlip", (), {}), ("RandomRotation", (10,), dict(expand=True, center=(1, 2))),
             ("RandomAffine", (10,), dict(translate=(0.1, 0.2), scale=(0.9, 1.1), shear=5, fill=3)),
             ("GaussianBlur", (3,), {}), ("Pad", (2,), {}), ("RandomErasing", (), {}), ("Grayscale", (), {}),
             ("RandomResizedCrop", (8,), {}), ("ToTensor", (), {}), ("RandAugment", (), {}),
             ("AutoAugment", (), {}), ("TrivialAugmentWide", (), {}), ("RandomPerspective", (), {})]
    for name, args, kwargs in cases:
        assert repr(getattr(T, name)(*args, **kwargs)) == repr(getattr(TT, name)(*args, **kwargs)), name
    assert repr(T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])) == \
        repr(TT.Compose([TT.ToTensor(), TT.Normalize([0.5], [0.5])]))


def test_module_transforms_chain_in_nn_sequential():
    seq = ember.nn.Sequential(T.CenterCrop(4), T.Normalize([0.5] * 3, [0.5] * 3))
    x = ember.from_numpy(F32[0].copy())
    np.testing.assert_allclose(seq(x).numpy(), (F32[0][:, 4:8, 6:10] - 0.5) / 0.5, atol=1e-6)
    assert isinstance(T.RandomCrop(3), ember.nn.Module) and not isinstance(T.ToTensor(), ember.nn.Module)
