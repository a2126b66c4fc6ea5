"""LeNet-5 (LeCun et al., 1998) in its common modern form: ReLU and max-pooling instead of tanh/subsampling."""
from ... import nn

__all__ = ["LeNet", "lenet"]


class LeNet(nn.Module):
    """conv1 (5x5, 6) -> pool -> conv2 (5x5, 16) -> pool -> fc1 (120) -> fc2 (84) -> fc3 (num_classes).

    Sized for 28x28 inputs (``padding=2`` on conv1 makes MNIST's 28x28 behave like the original 32x32).

    >>> LeNet()(ember.randn(4, 1, 28, 28)).shape
    ember.Size([4, 10])
    """

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.relu(self.fc1(x.flatten(1)))
        return self.fc3(self.relu(self.fc2(x)))


def lenet(**kwargs):
    return LeNet(**kwargs)
