"""The array backend: dtypes and devices, the default float dtype, the random generator, and the
process-wide resources the kernels share (a pool of scratch arrays, BLAS threads, malloc's settings).

Everything in nnscratch computes on NumPy arrays on the CPU. Floating-point data is float32
unless a caller asks for another dtype, and all randomness comes from one seedable
``numpy.random.Generator`` so that ``manual_seed(s)`` makes a whole run reproducible.
"""

import contextlib
import ctypes
import os
import sys
import threading

import numpy as np


class dtype:
    """A tensor's element type, as PyTorch shows it: ``print(torch.float32)`` prints ``torch.float32``.

    Each stands for one NumPy dtype, held as ``.dtype``, so NumPy takes it wherever a dtype goes
    (``np.zeros(2, dtype=torch.float32)``, ``a.astype(torch.long)``) and it compares and hashes
    equal to that NumPy dtype (``x.dtype == np.float32``). There is one object per dtype:
    ``torch.float is torch.float32``. ``kind``, ``char``, ``name``, ``str``, ``type`` and
    ``itemsize`` are the NumPy dtype's; ``is_floating_point``, ``is_complex`` and ``is_signed``
    are PyTorch's."""

    __slots__ = ("dtype",)

    def __init__(self, numpy_dtype):
        self.dtype = numpy_dtype

    def __repr__(self):
        return "torch." + self.dtype.name

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self is other
        if other is None:
            return False
        return self.dtype == other  # NumPy's rules: a dtype, a scalar type (np.float32) or a name

    def __hash__(self):
        return hash(self.dtype)  # as the NumPy dtype's, so a dict keyed by np.dtype finds it

    def __reduce__(self):  # copy, deepcopy and pickle give back the same object
        return as_dtype, (self.dtype.str,)

    @property
    def is_floating_point(self):
        return self.dtype.kind == "f"

    @property
    def is_complex(self):
        return self.dtype.kind == "c"

    @property
    def is_signed(self):
        return self.dtype.kind in "ifc"

    @property
    def itemsize(self):
        """Bytes per element."""
        return self.dtype.itemsize

    # NumPy's view of the same type, for code written against np.dtype
    kind = property(lambda self: self.dtype.kind)
    char = property(lambda self: self.dtype.char)
    name = property(lambda self: self.dtype.name)
    str = property(lambda self: self.dtype.str)
    type = property(lambda self: self.dtype.type)


_DTYPES = {}  # np.dtype -> its one ``dtype`` object
_TORCH_DTYPES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32",
                 "uint64", "bool", "complex64", "complex128")


def as_dtype(value):
    """The ``dtype`` object (``torch.float32`` ...) for a dtype given any way NumPy understands
    (``np.float32``, ``np.dtype("int64")``, ``"bool"``) or for such an object itself; None stays
    None. A NumPy dtype PyTorch has no counterpart of (strings, objects) comes back unchanged."""
    if value is None or isinstance(value, dtype):
        return value
    found = _DTYPES.get(value) if isinstance(value, np.dtype) else None
    if found is not None:
        return found
    numpy_dtype = np.dtype(value)
    found = _DTYPES.get(numpy_dtype)
    if found is None:
        if numpy_dtype.name not in _TORCH_DTYPES:
            return numpy_dtype
        found = _DTYPES[numpy_dtype] = dtype(numpy_dtype)
    return found


float32 = as_dtype(np.float32)
float64 = as_dtype(np.float64)
int64 = as_dtype(np.int64)
bool_ = as_dtype(np.bool_)
# PyTorch's other names for the same dtypes (``torch.float`` is float32, ``torch.long`` int64 ...).
float16 = half = as_dtype(np.float16)
float_ = float32
double = float64
int32 = as_dtype(np.int32)
int16 = short = as_dtype(np.int16)
int8 = as_dtype(np.int8)
uint8 = as_dtype(np.uint8)
long = int64
int_ = int32

_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def dtype_name(dtype):
    """PyTorch's short name of a dtype: Float, Double, Long, Int, Bool ... (as in its error messages)."""
    name = np.dtype(dtype).name
    return _TORCH_NAMES.get(name, name)


def legacy_type_name(dtype):
    """PyTorch's tensor type string for a dtype: ``torch.FloatTensor``, ``torch.LongTensor`` ..."""
    return f"torch.{dtype_name(dtype)}Tensor"


def dtype_of_type_name(name):
    """The dtype that a tensor type string such as ``"torch.FloatTensor"`` names."""
    short = name.rsplit(".", 1)[-1].removesuffix("Tensor")
    for numpy_name, torch_name in _TORCH_NAMES.items():
        if torch_name == short:
            return np.dtype(numpy_name)
    raise ValueError(f"invalid type: {name!r} (nnscratch has CPU types such as 'torch.FloatTensor')")


# ----------------------------------------------------------------------------- devices

class device:
    """Where a tensor lives: ``device("cpu")``. nnscratch computes on the CPU only; a CUDA (or
    MPS) device can be named, as in PyTorch on a machine without a GPU, but using it for a tensor
    or a module raises an error that says so (see ``check_device``)."""

    _TYPES = ("cpu", "cuda", "mps", "xpu", "meta")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif isinstance(type, str):
            kind, _, number = type.partition(":")
            if kind not in self._TYPES or (number and not number.isdigit()):
                raise RuntimeError(f"Expected one of {', '.join(self._TYPES)} device type at start of device "
                                   f"string: {type}")
            type, index = kind, int(number) if number else index
        else:
            raise TypeError(f"device() expects a string such as 'cpu', got {type!r}")
        self.type, self.index = type, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


cpu = device("cpu")


def check_device(where):
    """Accept ``None``, "cpu" or ``device("cpu")``; refuse every other device with the fix."""
    if where is None:
        return cpu
    where = where if isinstance(where, device) else device(where)
    if where.type != "cpu":
        raise RuntimeError(f"{where.type.upper()} is not available in nnscratch, which runs on the CPU; "
                           "use device='cpu'")
    return where

_default_dtype = np.dtype(np.float32)
_generator = np.random.default_rng()


def get_default_dtype():
    """The dtype that new floating-point tensors get (``torch.float32`` unless changed)."""
    return as_dtype(_default_dtype)


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64) the dtype of new floating-point tensors."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be a floating-point type such as float32, not {dtype}")
    _default_dtype = dtype


def manual_seed(seed):
    """Reseed the generator behind every random factory, initialiser and shuffle."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


class Generator:
    """A random number generator of its own, as ``torch.Generator()``: pass it as ``generator=``
    to a random factory (``randn``, ``randperm`` ...) or a data split to draw from it instead of
    the global generator. ``manual_seed(s)`` reseeds it (and returns it, as in PyTorch)."""

    def __init__(self, device="cpu"):
        check_device(device)
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.numpy_generator = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.numpy_generator = np.random.default_rng(self._seed)
        return self

    def seed(self):
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))._seed

    def initial_seed(self):
        return self._seed


def rng(gen=None):
    """The NumPy generator to draw from: that of ``gen`` (a ``Generator`` or a NumPy one), or the
    current global one when None."""
    if gen is None:
        return generator()
    return gen if isinstance(gen, np.random.Generator) else gen.numpy_generator


def generator_seed():
    """The seed sequence of the current generator: its entropy, spawn key, pool size and how many
    child generators it has spawned (``Generator.spawn``, which nn.DataParallel's threads draw
    from). With its bit generator's state this is all a checkpoint needs to continue the numbers."""
    seq = _generator.bit_generator.seed_seq
    entropy = seq.entropy if np.ndim(seq.entropy) == 0 else [int(e) for e in seq.entropy]
    return {"entropy": entropy, "spawn_key": [int(k) for k in seq.spawn_key], "pool_size": int(seq.pool_size),
            "spawned": int(seq.n_children_spawned)}


def restore_generator(state, seed=None):
    """Continue the random numbers of a saved run: the bit generator's ``state`` and, if given,
    its ``generator_seed()`` (so that later spawned generators are the saved run's too)."""
    global _generator
    if seed is not None:
        seq = np.random.SeedSequence(seed["entropy"], spawn_key=tuple(seed["spawn_key"]), pool_size=seed["pool_size"],
                                     n_children_spawned=seed["spawned"])
        _generator = np.random.Generator(type(_generator.bit_generator)(seq))
    _generator.bit_generator.state = state


class _ThreadGenerator(threading.local):
    generator = None


_thread = _ThreadGenerator()


def generator():
    """The current ``numpy.random.Generator`` (replaced by ``manual_seed``), or this thread's own
    while a ``thread_generator`` block runs."""
    own = _thread.generator
    return _generator if own is None else own


@contextlib.contextmanager
def thread_generator(rng):
    """Inside the block, ``generator()`` in this thread returns ``rng``. Worker threads that draw
    random numbers (dropout in ``nn.DataParallel``) each get their own seeded generator, so the
    numbers do not depend on how the threads interleave."""
    previous, _thread.generator = _thread.generator, rng
    try:
        yield rng
    finally:
        _thread.generator = previous


# ----------------------------------------------------------------------------- the array pool
# A freshly allocated large array costs the kernel a page fault for every 4 KiB page on its first
# write: for an LSTM on MNIST batches that was about a third of the time of a training step. So a
# kernel that makes large scratch arrays at every call (the recurrent functions do) takes them from
# this pool and gives them back when it is done with them; the next call of the same shape reuses them.

_pool = {}                      # (shape, dtype) -> arrays ready for reuse
_pool_bytes = 0
_pool_lock = threading.Lock()   # threads (nn.DataParallel) share the pool
POOL_LIMIT = 256 * 2 ** 20      # bytes kept at most
POOL_PER_SHAPE = 16             # arrays kept at most per shape (a 2-layer bidirectional LSTM saves 4)


def take_array(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``: a pooled one if one is free, else a new one."""
    global _pool_bytes
    with _pool_lock:
        free = _pool.get((shape, np.dtype(dtype)))
        if free:
            a = free.pop()
            _pool_bytes -= a.nbytes
            return a
    return np.empty(shape, dtype)


def give_arrays(*arrays):
    """Return arrays made by ``take_array`` (and no longer referenced anywhere else) to the pool,
    as far as POOL_LIMIT bytes and POOL_PER_SHAPE arrays per shape allow."""
    global _pool_bytes
    with _pool_lock:
        for a in arrays:
            free = _pool.setdefault((a.shape, a.dtype), [])
            if _pool_bytes + a.nbytes <= POOL_LIMIT and len(free) < POOL_PER_SHAPE:
                free.append(a)
                _pool_bytes += a.nbytes


def clear_array_pool():
    """Free every array the pool keeps for reuse."""
    global _pool_bytes
    with _pool_lock:
        _pool.clear()
        _pool_bytes = 0


# ----------------------------------------------------------------------------- BLAS threads

_blas = None


def _blas_libraries():
    """The BLAS libraries loaded in this process (threadpoolctl's controllers), found once."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController
        _blas = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    return _blas


@contextlib.contextmanager
def blas_threads(n):
    """Inside the block the BLAS (OpenBLAS, MKL or BLIS, found by threadpoolctl) uses at most ``n``
    threads, process-wide; the previous counts come back after."""
    changed = [(lib, m) for lib, m in ((lib, lib.get_num_threads()) for lib in _blas_libraries()) if m != n]
    for lib, _ in changed:  # only these: switching OpenBLAS between counts costs (0.9 ms a training step)
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, m in changed:
            lib.set_num_threads(m)


_shutdowns = None


def park_blas_threads():
    """Stop OpenBLAS's worker threads until its next multi-threaded product.

    After each product OpenBLAS keeps its workers spinning (about 0.1 s) in case another product
    follows; code that spreads its own work over the same cores then shares each core with a
    spinning thread and runs up to twice as slowly (measured: a 2 ms convolution kernel took 8 ms
    right after a 0.07 ms product). So the compiled kernels (``functional.compiled.run``) call
    this first: OpenBLAS's ``blas_thread_shutdown_`` ends the workers, and the next product starts
    them again (about 0.05 ms). It is done only while this is the process's one Python thread,
    so that no product of another thread is running; with another BLAS than OpenBLAS it does nothing."""
    global _shutdowns
    if _shutdowns is None:
        _shutdowns = []
        for lib in _blas_libraries():
            if lib.internal_api == "openblas":
                try:
                    _shutdowns.append(ctypes.CDLL(lib.filepath).blas_thread_shutdown_)
                except (OSError, AttributeError):
                    pass
    if threading.active_count() == 1:
        for shutdown in _shutdowns:
            shutdown()


malloc_tuned = None  # None until keep_freed_memory() is first called, then whether malloc's settings changed


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory in the process instead of handing every large
    block back to the operating system (``mallopt``: mmap threshold 256 MiB, trim threshold 1 GiB).
    Otherwise each large NumPy temporary (activations, gradients, a convolution's im2col matrix:
    megabytes per layer) is unmapped when freed and page-faulted in again at the next step, which
    made such steps up to 10x slower here (measured: 2.1 ms vs 0.21 ms for two elementwise ops on
    a 5 MB array) and a DeepConvNet training step about 1.5 times slower (1.60x PyTorch's time
    against 1.06-1.08x: ``benchmarks/bench_plain_loop.py``, benchmarks/README.md).

    The setting is process-wide, so importing nnscratch leaves malloc alone: the first
    ``backward()`` of a process calls this (the process trains: every later step gains), and so
    does the ``nnscratch`` command (its process is nnscratch's own). ``NNSCRATCH_MALLOC_TUNING=1``
    does it at import, ``NNSCRATCH_MALLOC_TUNING=0`` never. The peak memory is the same; what is
    freed stays in the process for the next step. Linux with glibc only; asked once, it returns
    whether the settings are in effect."""
    global malloc_tuned
    if malloc_tuned is None:
        malloc_tuned = _set_malloc_thresholds()
    return malloc_tuned


def _set_malloc_thresholds():
    if os.environ.get("NNSCRATCH_MALLOC_TUNING") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 256 * 2**20) and libc.mallopt(m_trim_threshold, 2**30))


if os.environ.get("NNSCRATCH_MALLOC_TUNING") == "1":
    keep_freed_memory()
