"""ember.vision.models: torchvision's architectures with its module names and state_dict keys."""
from .lenet import LeNet, lenet
from .resnet import ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50
from .cifar_resnet import CifarResNet, resnet20, resnet32, resnet56
from .vgg import VGG, vgg11, vgg11_bn, vgg16, vgg16_bn
from .mobilenetv2 import MobileNetV2, mobilenet_v2

__all__ = ["LeNet", "lenet", "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "CifarResNet", "resnet20", "resnet32", "resnet56", "VGG", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn",
           "MobileNetV2", "mobilenet_v2"]
