"""Neural-network building blocks with PyTorch's names: ``import nnscratch.nn as nn``."""

from . import init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Step, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .layers import (BatchNorm1d, Dropout, Embedding, Flatten, Identity, LayerNorm, Linear, Residual,
                     Standardize)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyError, CrossEntropyLoss, HuberLoss, L1Loss,
                   MSELoss, NLLLoss, SumSquaresError)
from .mlp import MLP
from .module import Module, Parameter
from .parallel import DataParallel
from .pooling import AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Dropout2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, SequenceClassifier
from .rbm import DBN, RBM
