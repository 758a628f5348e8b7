"""Neural-network building blocks with PyTorch's names: ``import nnscratch.nn as nn``.

``nn.functional`` (PyTorch's F signatures), ``nn.init`` and ``nn.utils`` are sub-modules, as in PyTorch.
"""

from . import functional, init, utils
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, MultiheadAttention, ReLU, ReLU6, Sigmoid,
                         SiLU, Softmax, Softmin, Softplus, Step, Tanh)
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .layers import Embedding, Flatten, Identity, Linear, Residual, Standardize, Unflatten
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyError, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss, SumSquaresError)
from .mlp import MLP
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parallel import DataParallel
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, SequenceClassifier
from .rbm import DBN, RBM
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
