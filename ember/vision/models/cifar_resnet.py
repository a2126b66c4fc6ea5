"""ResNet-20/32/56 for 32x32 images (He et al., 2015, section 4.2): a 3x3 stem, three stages of 16/32/64
planes, global average pooling. Module names follow torchvision's ResNet (conv1, bn1, layer1..3, fc) and the
widely shared CIFAR checkpoints that use them, with 1x1-conv + BN shortcuts (``downsample``)."""
from ... import nn
from ._api import check_weights
from .resnet import BasicBlock, conv1x1, conv3x3, init_resnet

__all__ = ["CifarResNet", "resnet20", "resnet32", "resnet56"]


class CifarResNet(nn.Module):
    """>>> resnet20()(ember.randn(2, 3, 32, 32)).shape
    ember.Size([2, 10])
    """

    def __init__(self, block, layers, num_classes=10, zero_init_residual=False):
        super().__init__()
        self.inplanes = 16
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, 16, layers[0])
        self.layer2 = self._make_layer(block, 32, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 64, layers[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64 * block.expansion, num_classes)
        init_resnet(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def _cifar(name, depth, weights, kwargs):
    check_weights(name, weights)
    n = (depth - 2) // 6
    return CifarResNet(BasicBlock, [n, n, n], **kwargs)


def resnet20(*, weights=None, progress=True, **kwargs):
    return _cifar("resnet20", 20, weights, kwargs)


def resnet32(*, weights=None, progress=True, **kwargs):
    return _cifar("resnet32", 32, weights, kwargs)


def resnet56(*, weights=None, progress=True, **kwargs):
    return _cifar("resnet56", 56, weights, kwargs)
