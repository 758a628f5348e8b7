"""MLP: a multilayer perceptron assembled from a list of layer sizes."""

from .activation import activation as make_activation
from .containers import Sequential
from .dropout import Dropout
from .layers import Linear
from .normalization import BatchNorm1d


class MLP(Sequential):
    """``MLP([784, 256, 256, 10])``: Linear layers with, after each hidden one, optional batch
    norm, the activation, and optional dropout; the last layer outputs raw scores (logits).

    ``init`` is the weights' initialisation ('he' suits ReLU, 'xavier' sigmoid/tanh; see nn.init).
    """

    def __init__(self, sizes, activation="relu", dropout=0.0, batchnorm=False, init="he"):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, init=init))
            if i < len(sizes) - 2:
                if batchnorm:
                    layers.append(BatchNorm1d(n_out))
                layers.append(make_activation(activation))
                if dropout:
                    layers.append(Dropout(dropout))
        super().__init__(*layers)
        self.sizes = sizes

    def extra_repr(self):
        return f"sizes={self.sizes}"
