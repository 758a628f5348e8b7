"""Optimizers, learning-rate schedulers and gradient clipping, with PyTorch's names.

``import nnscratch.optim as optim``::

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optim.clip_grad_norm_(model.parameters(), max_norm=1.0)   # optional
            optimizer.step()
        scheduler.step()

Every optimizer matches its ``torch.optim`` namesake step for step. ``Momentum`` and ``Nesterov``
are ``SGD`` with the settings named in *Deep Learning from Scratch*; ``AdaGrad`` and
``AdaDelta`` are the book's spellings of ``Adagrad`` and ``Adadelta``.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, LRScheduler, MultiplicativeLR,
                           MultiStepLR, OneCycleLR, ReduceLROnPlateau, SequentialLR, StepLR)
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD, Momentum, Nesterov

AdaGrad = Adagrad
AdaDelta = Adadelta

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "AdaGrad", "RMSprop", "Adadelta", "AdaDelta",
           "Adam", "AdamW", "clip_grad_norm_", "clip_grad_value_", "lr_scheduler", "LRScheduler", "StepLR",
           "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "OneCycleLR", "LinearLR",
           "SequentialLR", "LambdaLR", "MultiplicativeLR"]
