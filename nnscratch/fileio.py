"""Atomic file writes: a file appears complete or not at all, never half-written."""

import contextlib
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """``with atomic_write(path) as f: ...`` writes to a temporary file beside ``path``, flushes
    and fsyncs it, and renames it over ``path`` only when the block ends without an error; on an
    error the temporary file is removed and ``path`` is untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (not possible everywhere)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return os.fspath(path)


def remove_stale_parts(folder, names=None, grace=0.0):
    """Delete the temporaries (``.NAME.*.part``) left in ``folder`` by a process killed mid-write;
    returns their paths. Only those of ``names`` (all when None), at least ``grace`` seconds old and
    not locked by a running writer (a download holds an exclusive ``flock`` on its temporary; where
    there is no fcntl, an open file cannot be deleted, which protects it the same way)."""
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        return []
    removed = []
    for name in entries:
        if not (name.startswith(".") and name.endswith(".part")):
            continue
        if names is not None and not any(name.startswith(f".{n}.") for n in names):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):  # gone meanwhile, held by a writer, or not ours to delete
            if grace and time.time() - os.stat(path).st_mtime < grace:
                continue
            with open(path, "rb") as f:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if held
                    os.unlink(path)
            if fcntl is None:
                os.unlink(path)
            removed.append(path)
    return removed
