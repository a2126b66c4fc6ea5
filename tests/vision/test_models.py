"""ember.vision.models: torchvision's state_dict keys and shapes, forward shapes, checkpoint loading.

torchvision cannot be installed next to torch 2.13 in CI, so the key/shape lists are hard-coded in
torchvision_state_dict_keys.json, produced from torchvision 0.29's own model builders (weights=None, built on
the meta device). Where torchvision is importable, the tests also load its weights and compare outputs.
"""
import json
import os

import numpy as np
import pytest

import ember
from ember.vision import models as M
from _tv import needs_torchvision, torchvision
from oracle import torch

with open(os.path.join(os.path.dirname(__file__), "torchvision_state_dict_keys.json")) as f:
    TORCHVISION_KEYS = json.load(f)


def keys_and_shapes(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "mobilenet_v2"])
def test_state_dict_keys_and_shapes_match_torchvision(name):
    assert keys_and_shapes(getattr(M, name)()) == TORCHVISION_KEYS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg11", "vgg16_bn"])
def test_vgg_state_dict_keys_and_shapes_match_torchvision(name):
    assert keys_and_shapes(getattr(M, name)(init_weights=False)) == TORCHVISION_KEYS[name]


def test_vgg_feature_layouts_match_torchvision():
    # the feature extractors alone (the 100M-parameter classifier makes the full models slow to build)
    from ember.vision.models.vgg import make_layers, CFGS
    for name, cfg, bn in [("vgg11", "A", False), ("vgg11_bn", "A", True), ("vgg16", "D", False),
                          ("vgg16_bn", "D", True)]:
        expected = [[k[len("features."):], s] for k, s in TORCHVISION_KEYS[name] if k.startswith("features.")]
        assert keys_and_shapes(make_layers(CFGS[cfg], bn)) == expected, name


def test_cifar_resnet_sizes():
    # 0.27M / 0.46M / 0.85M parameters, as in He et al. 2015, Table 6
    for builder, params in [(M.resnet20, 272474), (M.resnet32, 466906), (M.resnet56, 855770)]:
        assert sum(p.numel() for p in builder().parameters()) == params
    assert len(M.resnet56().layer2) == 9


@pytest.mark.parametrize("builder,channels,size", [(M.lenet, 1, 28), (M.resnet20, 3, 32)])
def test_small_models_forward_backward(builder, channels, size):
    model = builder()
    out = model(ember.randn(2, channels, size, size))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("builder", [M.resnet18, M.mobilenet_v2])
def test_imagenet_models_forward_small_input(builder):
    model = builder(num_classes=7).eval()
    with ember.no_grad():
        assert model(ember.randn(1, 3, 32, 32)).shape == (1, 7)


def test_weights_argument_explains_offline_loading():
    with pytest.raises(RuntimeError, match="downloads no pretrained weights"):
        M.resnet18(weights="IMAGENET1K_V1")


@needs_torchvision
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_torchvision_checkpoint_loads_and_gives_same_outputs(name):
    torch.manual_seed(0)
    tv_model = getattr(torchvision.models, name)(num_classes=5).eval()
    for m in tv_model.modules():  # non-trivial running statistics so eval-mode BN is exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tv_model.state_dict().items()}
    model = getattr(M, name)(num_classes=5)
    result = model.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    with ember.no_grad():
        out = model(ember.from_numpy(x)).numpy()
    with torch.no_grad():
        ref = tv_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-4)
