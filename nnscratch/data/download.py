"""Downloading a file from a list of mirrors, safely: nothing but a complete file whose SHA-256 is
known ever appears under the real name.

``download_file`` fetches one URL into a temporary file beside the target (``.<name>.*.part``),
locked while it is written, checks the SHA-256 of what arrived against the known digests, then
fsyncs and renames it into place. Three limits keep a bad mirror from blocking: ``timeout``
seconds without any data, ``DOWNLOAD_DEADLINE`` seconds for the whole file, and an average of
``MIN_RATE`` bytes per second once ``RATE_GRACE`` seconds have passed. ``download_from_mirrors``
tries one mirror after another until one succeeds, and ``remove_stale_parts`` deletes the
temporaries a killed download left behind. (``nnscratch.data.mnist`` says which files to fetch
and from where.)
"""

import contextlib
import hashlib
import sys
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from .. import fileio
from ..fileio import atomic_write
from .idx import DataFileError

DEFAULT_TIMEOUT = 30.0  # seconds without data before a download attempt is abandoned
# A mirror that sends data, but too slowly, is abandoned too (and the next one tried). These limits
# are read when a download starts, so they can be changed here (tests make them short).
DOWNLOAD_DEADLINE = 900.0  # seconds per file, from the request to the last byte
MIN_RATE = 1024.0  # bytes per second on average, checked once RATE_GRACE seconds have passed
RATE_GRACE = 30.0


class ChecksumError(DataFileError):
    """A downloaded file's SHA-256 is not one of the known digests for it."""


class _Progress:
    """A tqdm bar when tqdm is installed and stderr is a terminal, else one line per download."""

    def __init__(self, url, total, enabled):
        self.enabled, self.bar, self.start, self.done = enabled, None, time.perf_counter(), 0
        if not enabled:
            return
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, leave=False,
                                desc=url.rsplit("/", 1)[-1], file=sys.stderr)
            except ImportError:
                pass
        if self.bar is None:
            size = f" ({total / 2**20:.1f} MiB)" if total else ""
            print(f"nnscratch: downloading {url}{size}", file=sys.stderr, flush=True)

    def update(self, n):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class SlowDownloadError(TimeoutError):
    """A mirror missed the deadline per file or sent data below the minimum rate."""


def download_file(url, dest, sha256, timeout=DEFAULT_TIMEOUT, progress=True, *, deadline=None, min_rate=None):
    """Download ``url`` to ``dest`` and return its SHA-256. The file appears under ``dest`` only
    complete and only if its SHA-256 is in ``sha256`` (a set of hex digests); otherwise a
    ChecksumError (or the network error) is raised and nothing is left behind.

    Three limits keep a bad mirror from blocking: ``timeout`` seconds without any data,
    ``deadline`` seconds for the whole file (default DOWNLOAD_DEADLINE), and an average rate of
    ``min_rate`` bytes per second once RATE_GRACE seconds have passed (default MIN_RATE). Missing
    one raises SlowDownloadError (a TimeoutError)."""
    import urllib.request  # imported here: only downloads need it

    dest = Path(dest)
    deadline = DOWNLOAD_DEADLINE if deadline is None else deadline
    min_rate = MIN_RATE if min_rate is None else min_rate
    known = {sha256} if isinstance(sha256, str) else set(sha256)
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "nnscratch (urllib)"})
    start = time.monotonic()

    def too_slow(received, total):
        elapsed = time.monotonic() - start
        of = f" of {total:,}" if total else ""
        if elapsed >= deadline:
            return SlowDownloadError(f"gave up after {elapsed:.1f} s with {received:,}{of} bytes received: the "
                                     f"deadline is {deadline:g} s per file (nnscratch.data.download.DOWNLOAD_DEADLINE)")
        if elapsed >= RATE_GRACE and received / elapsed < min_rate:
            return SlowDownloadError(f"the mirror sends {received / elapsed:,.1f} bytes/s ({received:,}{of} bytes in "
                                     f"{elapsed:.1f} s), below the minimum of {min_rate:,g} bytes/s "
                                     "(nnscratch.data.download.MIN_RATE)")
        return None

    def write(out):
        with urllib.request.urlopen(request, timeout=min(timeout, deadline)) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            sock = _socket_of(response)
            bar = _Progress(url, total, progress)
            try:
                while True:
                    if sock is not None:  # no read may outlast the deadline
                        sock.settimeout(max(0.01, min(timeout, deadline - (time.monotonic() - start))))
                    try:
                        chunk = response.read1(1 << 16)  # what has arrived, so a trickle is measured
                    except TimeoutError:
                        raise too_slow(bar.done, total) or TimeoutError(f"no data for {timeout:g} s") from None
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
                    if error := too_slow(bar.done, total):
                        raise error
            finally:
                bar.close()
        if total and bar.done < total:
            raise ConnectionError(f"the mirror closed the connection after {bar.done:,} of {total:,} bytes")
        if digest.hexdigest() not in known:
            expected = " or ".join(sorted(known)) or "(none known)"
            raise ChecksumError(url, f"SHA-256 mismatch: got {digest.hexdigest()}, expected {expected}",
                                "the mirror served a different or damaged file; nothing was saved")
        if progress and bar.bar is None:
            seconds = time.perf_counter() - bar.start
            print(f"nnscratch: saved {dest} ({bar.done / 2**20:.1f} MiB in {seconds:.1f} s, SHA-256 ok)",
                  file=sys.stderr, flush=True)

    with atomic_write(dest) as f:
        _hold(f)
        write(f)
    return digest.hexdigest()


def _socket_of(response):
    """The socket under a urllib response (to shorten its read timeout as the deadline nears),
    or None where the standard library is built differently (then the deadline is checked
    after each read, which the ``timeout`` bounds)."""
    return getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)


# A download holds an exclusive lock on its temporary file while it runs; a temporary that nobody
# holds was left by a killed process. Without fcntl (Windows), an open file cannot be deleted,
# which protects a running download in the same way.
PART_GRACE = 2.0  # seconds: a brand-new temporary may not be locked yet


def _hold(f):
    """Lock the open temporary file ``f`` for as long as it is open (see remove_stale_parts)."""
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_stale_parts(folder, files):
    """Delete the temporaries ``.<file>.*.part`` of ``files`` in ``folder`` that no running
    download holds and that are older than PART_GRACE; returns their paths."""
    return [Path(p) for p in fileio.remove_stale_parts(folder, names=files, grace=PART_GRACE)]


def describe(error):
    """A short reason for a failed download, for the list of failures in an error message."""
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"{error.reason}"
    if isinstance(error, DataFileError):
        return error.problem
    if isinstance(error, (SlowDownloadError, ConnectionError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


def download_from_mirrors(filename, mirrors, folder, sha256, failures, timeout=DEFAULT_TIMEOUT, progress=True):
    """Download ``filename`` into ``folder`` from the first of ``mirrors`` (base URLs) that serves
    it with a SHA-256 in ``sha256``; return its path. Each mirror that fails is appended to
    ``failures`` as (url, reason); None when all did (or there are none)."""
    import http.client

    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            download_file(url, Path(folder) / filename, sha256, timeout, progress)
        except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, timeouts, checksum
            failures.append((url, describe(e)))
            if progress:
                print(f"nnscratch: {url} failed: {describe(e)}", file=sys.stderr, flush=True)
            continue
        return Path(folder) / filename
    if not mirrors:
        failures.append(("(mirrors)", "no download mirrors configured"))
    return None
