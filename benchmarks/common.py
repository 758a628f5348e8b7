"""Shared helpers of the benchmarks: timing, and PyTorch set up with the same thread count."""

import os
import time


def best_time(step, steps, repeats):
    """Seconds per call of ``step()``: the best mean over ``repeats`` runs of ``steps`` calls."""
    step()  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def import_torch():
    """PyTorch with BENCH_THREADS (default 2) threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no ratio (pip install torch==2.13.0)")
        return None
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    return torch


def training_flops(model, sample_shape):
    """Floating-point operations of one training sample through ``model``: its matrix products
    only, which are nearly all of the work. Forward: 2·in·out per Linear, 2·(C_in/groups)·kh·kw per
    output element of a Conv2d. Backward: the same again for the weight gradient and again for the
    input gradient, except at the first layer, whose input (the data) needs none."""
    import numpy as np

    import nnscratch as ns

    calls = []   # (layer, output shape) of every Linear and Conv2d, in the order they run

    def recording(layer):
        forward = layer.forward

        def record(*args, **kwargs):
            y = forward(*args, **kwargs)
            calls.append((layer, y.shape))
            return y
        return record

    layers = [m for m in model.modules() if type(m).__name__ in ("Linear", "Conv2d")]
    for layer in layers:
        layer.forward = recording(layer)
    try:
        with ns.no_grad():
            model.eval()
            model(ns.zeros((1, *sample_shape)))
            model.train()
    finally:
        for layer in layers:
            del layer.forward
    total = 0
    for i, (layer, shape) in enumerate(calls):
        if type(layer).__name__ == "Linear":
            forward = 2 * layer.in_features * layer.out_features
        else:
            kh, kw = layer.kernel_size
            forward = 2 * (layer.in_channels // layer.groups) * kh * kw * int(np.prod(shape[1:]))
        total += forward * (2 if i == 0 else 3)
    return total


def matmul_gflops(n=1024, repeats=10):
    """The machine's float32 matrix-product rate through NumPy, n x n times n x n (best of ``repeats``)."""
    import numpy as np
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def nnscratch_training_step(model, x, t, lr=1e-3):
    """A function doing one training step of ``model`` on the batch (x, t), as a user's loop does:
    cross-entropy, zero_grad, backward, Adam's step."""
    import nnscratch as ns
    import nnscratch.functional as F
    from nnscratch import optim
    opt = optim.Adam(model.parameters(), lr=lr)
    x = ns.tensor(x)

    def step():
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_training_step(torch, model, x, t, lr=1e-3):
    """The same training step for a PyTorch ``model``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, t = torch.from_numpy(x), torch.from_numpy(t)

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def to_torch(module):
    """The PyTorch twin of an nnscratch network: the same structure, so that the state-dict keys
    match and ``load_state_dict`` copies the weights over (covers the layers of the presets)."""
    import torch
    nn = torch.nn
    kind = type(module).__name__
    if kind == "ResidualBlock":
        return _torch_residual_block(torch, module)
    if kind == "SequenceClassifier":
        return _torch_sequence_classifier(torch, module)
    if hasattr(module, "__iter__"):  # Sequential, MLP and the presets
        return nn.Sequential(*(to_torch(m) for m in module))
    if kind == "Linear":
        return nn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if kind == "Conv2d":
        return nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                         module.padding, module.dilation, module.groups, bias=module.bias is not None)
    if kind == "BatchNorm2d":
        return nn.BatchNorm2d(module.num_features, module.eps, module.momentum)
    if kind == "MaxPool2d":
        return nn.MaxPool2d(module.kernel_size, module.stride)
    if kind == "AdaptiveAvgPool2d":
        return nn.AdaptiveAvgPool2d(module.output_size)
    if kind == "Flatten":
        return nn.Flatten(module.start_dim, module.end_dim)
    if kind == "Dropout":
        return nn.Dropout(module.p)
    if kind in ("ReLU", "Sigmoid", "Tanh", "Identity"):
        return getattr(nn, kind)()
    raise TypeError(f"no PyTorch twin for {kind}")


def torch_twin(torch, model):
    """``to_torch(model)`` with ``model``'s weights and buffers copied in."""
    twin = to_torch(model)
    twin.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in model.state_dict().items()})
    return twin


def _torch_residual_block(torch, ours):
    """A torch module computing ``models.ResidualBlock``'s forward with twins of its layers."""
    class ResidualBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name in ("conv1", "bn1", "conv2", "bn2", "shortcut"):
                setattr(self, name, to_torch(getattr(ours, name)))

        def forward(self, x):
            y = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
            return (y + self.shortcut(x)).relu()
    return ResidualBlock()


def _torch_sequence_classifier(torch, ours):
    """torch's RNN/LSTM/GRU (batch_first) over the image rows, then a Linear on the last hidden
    state, as ``nn.SequenceClassifier``."""
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[ours.cell]

    class SequenceClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = layer(ours.rnn.input_size, ours.rnn.hidden_size, ours.rnn.num_layers, batch_first=True)
            self.fc = torch.nn.Linear(ours.fc.in_features, ours.fc.out_features)

        def forward(self, x):
            _, state = self.rnn(x.reshape(x.shape[0], -1, ours.input_size))
            h = state[0] if isinstance(state, tuple) else state
            return self.fc(h[-1])
    return SequenceClassifier()
