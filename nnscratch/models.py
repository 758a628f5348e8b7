"""Ready-made networks, each a class (an ``nn.Sequential``), rebuilt from a small JSON-able config
stored in every checkpoint.

``build_model({"arch": "mlp", "sizes": [784, 100, 10], "activation": "relu"})`` gives the same
network in any process, so ``nnscratch eval`` and ``predict`` can reload a trained model from its
``model.npz`` alone (the ``arch`` names and what each takes are in ``nnscratch.app.architectures``).
Image models take (N, 1, 28, 28) input; every network accepts ``input_mean``/``input_std`` to
standardise its input inside the network. The lower-case names (``simple_cnn``, ``lenet5``, ...)
are the same classes under their architecture names.
"""

from . import nn


def _input_layers(input_mean, input_std):
    return [nn.Standardize(input_mean, input_std)] if input_mean is not None else []


class MultiLayerNet(nn.Sequential):
    """The book's MultiLayerNet (ch. 6): a multilayer perceptron (``nn.MLP``) on flattened input,
    ``sizes`` from input to classes."""

    def __init__(self, sizes, activation="relu", dropout=0.0, batchnorm=False, init="he", input_mean=None,
                 input_std=None):
        super().__init__(*_input_layers(input_mean, input_std), nn.Flatten(),
                         nn.MLP(sizes, activation=activation, dropout=dropout, batchnorm=batchnorm, init=init))


class SimpleConvNet(nn.Sequential):
    """The book's SimpleConvNet (ch. 7): conv 30@5x5 - ReLU - max-pool 2 - fc 100 - ReLU - fc 10."""

    def __init__(self, in_channels=1, num_classes=10, input_size=28, filters=30, hidden=100, input_mean=None,
                 input_std=None):
        pooled = (input_size - 4) // 2
        super().__init__(*_input_layers(input_mean, input_std),
                         nn.Conv2d(in_channels, filters, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(filters * pooled * pooled, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


class LeNet5(nn.Sequential):
    """LeNet-5 (LeCun et al., 1998) on 28x28 input padded by 2 to the original 32x32: conv 6@5x5 -
    pool - conv 16@5x5 - pool - fc 120 - fc 84 - fc 10, with ReLU and max pooling as today."""

    def __init__(self, in_channels=1, num_classes=10, input_mean=None, input_std=None):
        super().__init__(*_input_layers(input_mean, input_std),
                         nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, num_classes))


class DeepConvNet(nn.Sequential):
    """The book's DeepConvNet (ch. 8): six 3x3 convolutions 16-16-32-32-64-64 with ReLU, max-pooling
    after every second one (the fourth pads by 2, as the book's), fc 50 - ReLU - dropout 0.5 -
    fc 10 - dropout 0.5, He initialisation."""

    def __init__(self, in_channels=1, num_classes=10, input_mean=None, input_std=None):
        def conv(c_in, c_out, padding=1):
            return [nn.Conv2d(c_in, c_out, 3, padding=padding, init="he"), nn.ReLU()]
        super().__init__(*_input_layers(input_mean, input_std),
                         *conv(in_channels, 16), *conv(16, 16), nn.MaxPool2d(2),
                         *conv(16, 32), *conv(32, 32, padding=2), nn.MaxPool2d(2),
                         *conv(32, 64), *conv(64, 64), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 4 * 4, 50, init="he"), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(50, num_classes, init="he"), nn.Dropout(0.5))


class ResidualBlock(nn.Module):
    """y = ReLU(F(x) + shortcut(x)), F = conv3x3-BN-ReLU-conv3x3-BN (He et al., 2016). The shortcut
    is the identity, or a 1x1 convolution with batch norm when the stride or width changes. The
    identity path hands the gradient to x unchanged, so deep stacks keep learning."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False, init="he")
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False, init="he")
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False,
                                                    init="he"), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        y = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
        return (y + self.shortcut(x)).relu()


class VGG(nn.Sequential):
    """A small VGG-style network (Simonyan and Zisserman, 2014): per width a block of two 3x3
    convolutions, each with batch norm and ReLU, then 2x2 max pooling; fc ``hidden`` - ReLU -
    dropout - fc."""

    def __init__(self, in_channels=1, num_classes=10, widths=(32, 64), hidden=256, dropout=0.5, input_size=28,
                 input_mean=None, input_std=None):
        layers, c_in, size = list(_input_layers(input_mean, input_std)), in_channels, input_size
        for width in widths:
            for c in (c_in, width):
                layers += [nn.Conv2d(c, width, 3, padding=1, bias=False, init="he"), nn.BatchNorm2d(width),
                           nn.ReLU()]
            layers.append(nn.MaxPool2d(2))
            c_in, size = width, size // 2
        super().__init__(*layers, nn.Flatten(), nn.Linear(c_in * size * size, hidden, init="he"), nn.ReLU(),
                         nn.Dropout(dropout), nn.Linear(hidden, num_classes))


class ResNet(nn.Sequential):
    """A small residual network: conv3x3-BN-ReLU stem, ``blocks`` ResidualBlocks per width (each
    new width halves the resolution), global average pooling, fc."""

    def __init__(self, in_channels=1, num_classes=10, widths=(32, 64), blocks=2, input_mean=None, input_std=None):
        layers = [*_input_layers(input_mean, input_std),
                  nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False, init="he"), nn.BatchNorm2d(widths[0]),
                  nn.ReLU()]
        c_in = widths[0]
        for i, width in enumerate(widths):
            for b in range(blocks):
                layers.append(ResidualBlock(c_in, width, stride=2 if (i > 0 and b == 0) else 1))
                c_in = width
        super().__init__(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))


class RowLSTM(nn.Sequential):
    """Row-by-row image classification: an LSTM (or GRU/RNN) reads the 28 rows of 28 pixels as a
    sequence of 28 steps and a Linear layer classifies from its last hidden state."""

    def __init__(self, in_channels=1, num_classes=10, input_size=28, hidden_size=128, num_layers=1, cell="lstm",
                 input_mean=None, input_std=None):
        super().__init__(*_input_layers(input_mean, input_std),
                         nn.SequenceClassifier(input_size, hidden_size, num_classes, num_layers, cell))


class DBNClassifier(MultiLayerNet):
    """The network a deep belief net becomes for fine-tuning (``nn.DBN.to_mlp``): a MultiLayerNet of
    ``sizes`` with sigmoid hidden layers (their weights come from the pre-trained RBMs) on
    flattened images."""

    def __init__(self, sizes, dropout=0.0, input_mean=None, input_std=None):
        super().__init__(sizes, activation="sigmoid", dropout=dropout, init="xavier", input_mean=input_mean,
                         input_std=input_std)


# The architecture names stored in checkpoints ("arch"), as callables.
mlp, simple_cnn, lenet5, deep_cnn = MultiLayerNet, SimpleConvNet, LeNet5, DeepConvNet
vgg, resnet, row_lstm, dbn = VGG, ResNet, RowLSTM, DBNClassifier


def __getattr__(name):
    # the registry imports this module, so it is looked up when first asked for
    if name in ("build_model", "ARCHITECTURES"):
        from .app import architectures
        return getattr(architectures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
