"""MNIST and Fashion-MNIST: finding, downloading, verifying and loading the IDX files.

Where a dataset ``name`` ("mnist" or "fashion-mnist") is looked for, in order (each of the four
files may be gzip-compressed ``.gz`` or uncompressed, without ``.gz``):

1. ``$NNSCRATCH_DATA/<name>/`` (several folders may be given, separated by ``os.pathsep``)
2. the cache: ``$XDG_CACHE_HOME/nnscratch/<name>/``, else ``~/.cache/nnscratch/<name>/``
3. system folders (``SYSTEM_DIRS``): ``/usr/share/datasets/<name>/`` (Debian's
   ``dataset-fashion-mnist`` installs there), ``/usr/local/share/datasets/<name>/``

A ``root=`` argument adds ``<root>/<name>/`` in front of them and becomes the download folder.
Files found locally are checked structurally (IDX header and length). Missing files are
downloaded into the cache from the mirrors in ``DATASETS`` (one after another until one works),
and a download is kept only if its SHA-256 is a known digest of that file; it is written to a
temporary file in the target folder, fsync'ed and renamed into place, so a file under the real
name is always complete. A mirror that misses the deadline per file or sends too slowly is
abandoned for the next one, and the temporaries of a download that was killed are removed when
the next download into that folder starts (all of which is ``nnscratch.data.download``, where
the limits ``DOWNLOAD_DEADLINE`` and ``MIN_RATE`` are set). After the first parse
the arrays are kept as ``.npy`` in ``<cache>/<name>/parsed/`` (keyed by the source file's path,
size and mtime), which makes later loads a fraction of a second.
"""

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..fileio import atomic_write, atomic_write_text
from .dataset import TensorDataset
from .download import DEFAULT_TIMEOUT, download_from_mirrors, remove_stale_parts
from .download import ChecksumError, SlowDownloadError, download_file  # noqa: F401  (importable from here too)
from .idx import DataFileError, decompress, parse_idx

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
SPLITS = {"train": (TRAIN_IMAGES, TRAIN_LABELS), "test": (TEST_IMAGES, TEST_LABELS)}

SYSTEM_DIRS = [Path("/usr/share/datasets"), Path("/usr/local/share/datasets")]


class DatasetInfo:
    """What nnscratch knows about one IDX dataset: its files, class names, download mirrors (base
    URLs, tried in order) and the known SHA-256 digests, per file, of the ``.gz`` files
    (``sha256``) and of their decompressed contents (``content_sha256``)."""

    def __init__(self, name, title, classes, mirrors, sha256, content_sha256, files=FILES, license=""):
        self.name, self.title, self.classes = name, title, tuple(classes)
        self.mirrors, self.files, self.license = list(mirrors), tuple(files), license
        self.sha256 = {f: set(d) for f, d in sha256.items()}
        self.content_sha256 = {f: set(d) for f, d in content_sha256.items()}

    def __repr__(self):
        return f"DatasetInfo({self.name!r}, {len(self.files)} files, {len(self.mirrors)} mirrors)"


# MNIST: the .gz digests match tensorflow-datasets' url_checksums/mnist.txt and the shared copies
# (whose MD5s are the well-known ones). Content digests: SHA-256 of the decompressed files, whose
# MD5s match the shared README's.
_MNIST = DatasetInfo(
    "mnist", "MNIST", [str(d) for d in range(10)],
    mirrors=["https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/",
             "http://yann.lecun.com/exdb/mnist/"],
    sha256={
        TRAIN_IMAGES: ["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"],
        TRAIN_LABELS: ["3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"],
        TEST_IMAGES: ["8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"],
        TEST_LABELS: ["f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"]},
    content_sha256={
        TRAIN_IMAGES: ["ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"],
        TRAIN_LABELS: ["65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"],
        TEST_IMAGES: ["0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"],
        TEST_LABELS: ["ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"]},
    license="CC BY-SA 3.0, Yann LeCun and Corinna Cortes")

# Fashion-MNIST: two .gz digests per file. The first is Zalando's own file (tensorflow-datasets'
# url_checksums/fashion_mnist.txt; reproduced by restoring Zalando's gzip header on Debian's copy,
# which also gives Zalando's published MD5s). The second is Debian's dataset-fashion-mnist
# 0.0~git20200523.55506a9-1, which only rewrote the gzip header (no stored name, another mtime).
_FASHION_MNIST = DatasetInfo(
    "fashion-mnist", "Fashion-MNIST",
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    mirrors=["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"],
    sha256={
        TRAIN_IMAGES: ["3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                       "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"],
        TRAIN_LABELS: ["a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                       "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"],
        TEST_IMAGES: ["346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                      "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"],
        TEST_LABELS: ["67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                      "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"]},
    content_sha256={
        TRAIN_IMAGES: ["c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"],
        TRAIN_LABELS: ["bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"],
        TEST_IMAGES: ["5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"],
        TEST_LABELS: ["0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"]},
    license="MIT, Zalando SE")

DATASETS = {"mnist": _MNIST, "fashion-mnist": _FASHION_MNIST}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are nowhere to be found and could not be downloaded. The message lists
    every folder searched, every failed download, and the ways to fix it. Attributes: ``name``,
    ``missing`` (file names), ``locations`` (folders searched), ``failures`` ((url or folder, reason)
    pairs)."""

    def __init__(self, message, name=None, missing=(), locations=(), failures=()):
        super().__init__(message)
        self.name, self.missing = name, list(missing)
        self.locations, self.failures = list(locations), list(failures)

    def __str__(self):
        return self.args[0]


def __getattr__(name):
    # The download limits lived here once; they are read (and set) in ``download`` now.
    if name in ("DOWNLOAD_DEADLINE", "MIN_RATE", "RATE_GRACE", "PART_GRACE"):
        from . import download
        return getattr(download, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _info(name):
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


# ---------------------------------------------------------------------------------------------
# Where files are looked for

def cache_root():
    """``$XDG_CACHE_HOME/nnscratch``, else ``~/.cache/nnscratch``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "nnscratch"


def cache_dir(name):
    """The cache folder of dataset ``name`` (where downloads go)."""
    return cache_root() / name


def _labelled_locations(name, root=None):
    places = []
    if root is not None:
        places.append((Path(root).expanduser() / name, "root argument"))
    for part in os.environ.get("NNSCRATCH_DATA", "").split(os.pathsep):
        if part:
            places.append((Path(part).expanduser() / name, "$NNSCRATCH_DATA"))
    places.append((cache_dir(name), "cache"))
    places.extend((Path(d) / name, "system") for d in SYSTEM_DIRS)
    return places


def search_locations(name, root=None):
    """The folders searched for dataset ``name``, in order: ``<root>/<name>`` (if ``root``),
    ``$NNSCRATCH_DATA/<name>``, the cache folder, then ``<d>/<name>`` for each of SYSTEM_DIRS."""
    _info(name)
    return [folder for folder, _ in _labelled_locations(name, root)]


def _find_file(filename, folders):
    """The first ``folder/filename`` or ``folder/filename-without-.gz`` that exists, else None."""
    names = [filename, filename[:-3]] if filename.endswith(".gz") else [filename]
    for folder in folders:
        for candidate in names:
            path = folder / candidate
            if path.is_file():
                return path
    return None


def dataset_status(name, root=None):
    """``{file name: path where it was found, or None if missing}`` for the four files."""
    folders = search_locations(name, root)
    return {f: _find_file(f, folders) for f in _info(name).files}


def _not_found(name, missing, root, failures, download_tried):
    info = _info(name)
    places = _labelled_locations(name, root)
    lines = [f"{info.title} ({name}) not found: missing {', '.join(missing)}.",
             "Looked in these folders, in order (for each file, with or without .gz):"]
    lines += [f"  {folder}  [{label}{'' if folder.is_dir() else ', does not exist'}]" for folder, label in places]
    if not os.environ.get("NNSCRATCH_DATA"):
        lines.append("  ($NNSCRATCH_DATA is not set)")
    if not download_tried:
        lines.append("Did not download (download=False).")
    elif failures:
        lines.append("Download failed:")
        lines += [f"  {where}: {why}" for where, why in failures]
    lines += ["To fix it, do one of:",
              f"  1. set NNSCRATCH_DATA to a folder containing {name}/ with the four files "
              f"({', '.join(info.files)})",
              f"  2. copy the four files into {cache_dir(name)}/",
              f"  3. run `nnscratch data fetch {name}` (needs internet access)"]
    return DatasetNotFoundError("\n".join(lines), name, missing, [p for p, _ in places], failures)


def _known_digests(info, filename, sha256):
    if sha256 is None:
        return info.sha256.get(filename, set())
    digests = sha256.get(filename, ()) if isinstance(sha256, dict) else sha256
    return {digests} if isinstance(digests, str) else set(digests)


def _resolve(name, files, root=None, download=True, mirrors=None, sha256=None, timeout=DEFAULT_TIMEOUT,
             progress=True):
    """``{file: path}`` for ``files`` of dataset ``name``, downloading the missing ones into
    ``<root>/<name>`` (or the cache) when ``download``. Raises DatasetNotFoundError."""
    info = _info(name)
    folders = search_locations(name, root)
    paths = {f: _find_file(f, folders) for f in files}
    missing = [f for f, p in paths.items() if p is None]
    if not missing:
        return paths
    if not download:
        raise _not_found(name, missing, root, [], download_tried=False)
    target = Path(root).expanduser() / name if root is not None else cache_dir(name)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _not_found(name, missing, root, [(target, f"cannot create the download folder: {e}")], True) from None
    remove_stale_parts(target, info.files)
    urls = info.mirrors if mirrors is None else list(mirrors)
    failures = []
    for filename in missing:
        path = download_from_mirrors(filename, urls, target, _known_digests(info, filename, sha256), failures,
                                     timeout, progress)
        if path is None:
            raise _not_found(name, [f for f, p in paths.items() if p is None], root, failures, True)
        paths[filename] = path
    return paths


def fetch(name, root=None, *, mirrors=None, sha256=None, timeout=DEFAULT_TIMEOUT, progress=True):
    """Make sure dataset ``name``'s four files are available, downloading the missing ones into
    the cache (or ``<root>/<name>``), and return the folder holding the training images."""
    paths = _resolve(name, _info(name).files, root, True, mirrors, sha256, timeout, progress)
    return paths[_info(name).files[0]].parent


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def verify(name, root=None):
    """Check each of the four files of ``name`` and return one dict per file:

    ``file``, ``path`` (where found, or None), ``idx`` ("ok: 60000x28x28 uint8" or what is wrong),
    ``sha256`` of the file, ``known`` (it is a known digest: of the .gz for compressed files, of
    the contents for uncompressed ones), ``content_sha256`` of the decompressed IDX data,
    ``content_known``, and ``ok`` (IDX check passed and a digest is known)."""
    info = _info(name)
    folders = search_locations(name, root)
    report = []
    for filename in info.files:
        path = _find_file(filename, folders)
        entry = {"file": filename, "path": path, "idx": "missing", "sha256": None, "known": False,
                 "content_sha256": None, "content_known": False, "ok": False}
        report.append(entry)
        if path is None:
            continue
        raw = path.read_bytes()
        entry["sha256"] = _sha256(raw)
        try:
            data = decompress(raw, path)
            entry["content_sha256"] = _sha256(data)
            array = parse_idx(data, path)
            entry["idx"] = f"ok: {'x'.join(map(str, array.shape))} {array.dtype}"
        except DataFileError as e:
            entry["idx"] = e.problem
        entry["content_known"] = entry["content_sha256"] in info.content_sha256.get(filename, set())
        is_gz = path.name.endswith(".gz")
        entry["known"] = entry["sha256"] in (info.sha256 if is_gz else info.content_sha256).get(filename, set())
        entry["ok"] = entry["idx"].startswith("ok") and (entry["known"] or entry["content_known"])
    return report


# ---------------------------------------------------------------------------------------------
# Parsing, with a .npy cache of the parsed arrays

def _cache_key(path):
    stat = path.stat()
    return {"format": 1, "source": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _load_idx(name, filename, path, shape):
    """The array in the IDX file ``path``, from the parsed-array cache when it is up to date."""
    folder = cache_dir(name) / "parsed"
    stem = filename[:-3] if filename.endswith(".gz") else filename
    npy, meta = folder / f"{stem}.npy", folder / f"{stem}.json"
    key = _cache_key(path)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(meta.read_text()) == key:
            return np.load(npy, mmap_mode=None, allow_pickle=False)
    hint = f"delete it and run `nnscratch data fetch {name}`, or replace it with a good copy"
    try:
        array = parse_idx(decompress(path.read_bytes(), path), path, shape)
    except DataFileError as e:
        raise DataFileError(path, e.problem, hint) from None
    with contextlib.suppress(OSError):  # an unwritable cache just means no caching
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            meta.unlink()
        with atomic_write(npy) as f:
            np.save(f, array, allow_pickle=False)
        atomic_write_text(meta, json.dumps(key))
    return array


def _read_split(name, paths, split):
    """(images uint8 (N, H, W), labels int64 (N,)) of ``split`` ("train" or "test")."""
    image_file, label_file = SPLITS[split]
    images = _load_idx(name, image_file, paths[image_file], (None, None, None))
    labels = _load_idx(name, label_file, paths[label_file], (None,))
    if len(images) != len(labels):
        raise DataFileError(paths[label_file], f"{len(labels)} labels but {paths[image_file]} has "
                                               f"{len(images)} images", "the two files do not belong together")
    classes = len(_info(name).classes)
    if labels.size and int(labels.max()) >= classes:
        raise DataFileError(paths[label_file], f"label {int(labels.max())} is out of range 0..{classes - 1}")
    return images, labels.astype(np.int64)


def _images(images, normalize, flatten):
    x = images
    if normalize:  # float32 pixel / 255, as the book's astype(np.float32) then /= 255.0
        x = np.divide(images, np.float32(255.0), out=np.empty(images.shape, np.float32), dtype=np.float32)
    return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, name="mnist", root=None, download=True,
               mirrors=None, sha256=None, timeout=DEFAULT_TIMEOUT, progress=True):
    """MNIST as in *Deep Learning from Scratch* (``dataset/mnist.py``):
    ``(x_train, t_train), (x_test, t_test)``.

    - ``normalize``: images as float32 pixel / 255 in [0, 1]; else uint8 0..255
    - ``flatten``: images (N, 784); else (N, 1, 28, 28)
    - ``one_hot_label``: labels (N, 10) float32 one-hot rows; else int64 class indices (N,)

    ``name`` picks the dataset ("mnist" or "fashion-mnist"); ``root``, ``download``, ``mirrors``,
    ``sha256`` (``{file: digests}``), ``timeout`` and ``progress`` control where files are found
    and how missing ones are downloaded (see the module docstring)."""
    info = _info(name)
    paths = _resolve(name, info.files, root, download, mirrors, sha256, timeout, progress)
    out = []
    for split in ("train", "test"):
        images, labels = _read_split(name, paths, split)
        t = np.eye(len(info.classes), dtype=np.float32)[labels] if one_hot_label else labels
        out.append((_images(images, normalize, flatten), t))
    return tuple(out)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False, *, root=None, download=True, **options):
    """Fashion-MNIST, in the same form as ``load_mnist``."""
    return load_mnist(normalize, flatten, one_hot_label, name="fashion-mnist", root=root, download=download,
                      **options)


class MNIST(TensorDataset):
    """The MNIST training (``train=True``, 60,000) or test (10,000) set as a dataset of
    ``(image, label)``: images float32 in [0, 1] shaped (N, 1, 28, 28), or (N, 784) with
    ``flatten=True``, or uint8 with ``normalize=False``; labels int64. ``transform`` is applied to
    each batch of images (see ``nnscratch.data.transforms``). ``classes`` names the labels."""

    name = "mnist"

    def __init__(self, root=None, train=True, transform=None, download=True, flatten=False, normalize=True):
        split = "train" if train else "test"
        paths = _resolve(self.name, SPLITS[split], root, download)
        images, labels = _read_split(self.name, paths, split)
        super().__init__(_images(images, normalize, flatten), labels, transform=transform)
        self.train, self.root = train, root
        self.classes = list(_info(self.name).classes)

    @property
    def data(self):
        """The images array."""
        return self.arrays[0]

    @property
    def targets(self):
        """The labels array (int64)."""
        return self.arrays[1]

    def __repr__(self):
        split = "train" if self.train else "test"
        return (f"{type(self).__name__}({split}: {len(self)} images {self.data.shape[1:]} {self.data.dtype}, "
                f"{len(self.classes)} classes)")


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, same form as MNIST."""

    name = "fashion-mnist"
