"""Sequence data: sliding windows over a time series, the adding problem, and a noisy seasonal series.

Random generators take ``seed``: an int (or a ``numpy.random.Generator``) for a fixed result, or
None to draw from nnscratch's generator (``nnscratch.manual_seed`` makes that reproducible).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .dataset import Dataset, _array
from .toy import _rng


class SequenceDataset(Dataset):
    """Sliding windows over a series: sample k is (series[s : s + window], series[s + window :
    s + window + horizon]) with s = k · stride — ``window`` past values and the ``horizon`` values
    that follow them.

    ``series`` is 1-D (T,) or (T, F). Inputs have shape (window, F) (F = 1 for a 1-D series, so
    they feed an RNN directly); targets have shape (horizon,) for a 1-D series and (horizon, F)
    otherwise. There are (T - window - horizon) // stride + 1 samples. The windows are a strided
    view of the series (no copy); ``get_batch`` gathers a batch with one fancy-indexing step.
    """

    def __init__(self, series, window, horizon=1, stride=1):
        series = _array(series)
        if series.dtype.kind == "f":
            series = series.astype(np.float32, copy=False)
        if series.ndim not in (1, 2):
            raise ValueError(f"SequenceDataset expects a series of shape (T,) or (T, F), got shape {tuple(series.shape)}")
        if min(window, horizon, stride) < 1:
            raise ValueError(f"window, horizon and stride must be at least 1, got {window}, {horizon}, {stride}")
        span = window + horizon
        if len(series) < span:
            raise ValueError(f"the series has {len(series)} steps, fewer than window + horizon = {span}")
        self.flat = series.ndim == 1
        self.series = np.ascontiguousarray(series.reshape(len(series), -1))
        self.window, self.horizon, self.stride = window, horizon, stride
        n = (len(series) - span) // stride + 1
        step, feature = self.series.strides
        self.windows = as_strided(self.series, shape=(n, span, self.series.shape[1]),
                                  strides=(stride * step, step, feature), writeable=False)

    def __len__(self):
        return len(self.windows)

    def __getitem__(self, index):
        x, t = self.get_batch(np.asarray([index]))
        return x[0], t[0]

    def get_batch(self, indices):
        batch = self.windows[np.asarray(indices)]   # (B, window + horizon, F), a copy
        x, t = batch[:, :self.window], batch[:, self.window:]
        return x, (t[..., 0] if self.flat else t)


def adding_problem(n=1000, length=50, seed=None):
    """The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015), a test of long memory.

    Each of the ``n`` sequences has ``length`` steps of two features: x[:, k, 0] are values
    ~ U(0, 1) and x[:, k, 1] is a marker row, 0 everywhere except two 1s, one at a random step of
    the first half and one in the second half. The target is the sum of the two marked values,
    t (n, 1). Predicting the mean 1 scores MSE = Var(u1 + u2) = 2/12 ≈ 0.167; solving it needs
    the first marked value remembered over up to ``length`` steps. Returns float32 (x, t).
    """
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, got {length}")
    rng = _rng(seed)
    half = length // 2
    values = rng.random((n, length))
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1
    markers[rows, second] = 1
    x = np.stack([values, markers], axis=2).astype(np.float32)
    t = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return x, t


def seasonal_series(n=1000, period=24, trend=0.0, noise=0.1, seed=None):
    """A noisy seasonal series of ``n`` steps, float32 (n,):

        y_k = sin(2πk / period) + 0.5 · sin(4πk / period + 1) + trend · k + noise · ε_k,  ε_k ~ N(0, 1)

    (a season with a second harmonic, a linear trend per step, and white noise)."""
    if period <= 0:
        raise ValueError(f"period must be positive, got {period}")
    rng = _rng(seed)
    k = np.arange(n)
    angle = 2 * np.pi * k / period
    y = np.sin(angle) + 0.5 * np.sin(2 * angle + 1) + trend * k + noise * rng.standard_normal(n)
    return y.astype(np.float32)
