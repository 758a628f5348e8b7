"""``torch.cuda`` on a machine without a GPU: nnscratch computes on the CPU only.

``is_available()`` is False and ``device_count()`` 0, so the usual
``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU. Seeding calls are
accepted and do nothing, as in PyTorch without CUDA.
"""


def is_available():
    """False: nnscratch has no CUDA backend."""
    return False


def device_count():
    """0: no CUDA devices."""
    return 0


def manual_seed(seed):
    """Nothing to seed (no CUDA generator); accepted as PyTorch accepts it without a GPU."""


def manual_seed_all(seed):
    """Nothing to seed (no CUDA generators)."""


def synchronize(device=None):
    """Nothing to wait for: every nnscratch operation has finished when it returns."""


def empty_cache():
    """Nothing to free: nnscratch keeps no GPU memory."""
