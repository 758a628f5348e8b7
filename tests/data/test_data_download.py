"""Downloading MNIST-family files, against a local HTTP server on 127.0.0.1 serving small generated
IDX files: checksums, atomic writes, mirror fallback, the not-found error, the deadline and minimum
rate against a trickling mirror, and the temporaries that a killed download leaves."""

import hashlib
import http.server
import os
import re
import socket
import threading
import time

import numpy as np
import pytest

from nnscratch.data import ChecksumError, DatasetNotFoundError, dataset_status, fetch, load_mnist
from nnscratch.data import download as download_module
from nnscratch.data import mnist as mnist_module
from nnscratch.data.idx import idx_bytes

FILES = mnist_module.FILES
TIMEOUT = 5  # seconds; every request here is answered at once (or refused)


def tiny_files(seed=0):
    """The four .gz files (bytes) of a tiny dataset and the arrays inside them."""
    import gzip

    rng = np.random.default_rng(seed)
    arrays = {FILES[0]: rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              FILES[1]: (np.array([5, 0, 4, 1, 9], np.uint8) + seed) % 10,
              FILES[2]: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
              FILES[3]: (np.array([7, 2, 1], np.uint8) + seed) % 10}
    blobs = {f: gzip.compress(idx_bytes(a), mtime=0) for f, a in arrays.items()}
    return blobs, arrays


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Server:
    """A threaded HTTP server on 127.0.0.1 (random free port). ``routes[path] = (mode, body)``
    with mode "ok", "truncate" (promise the whole body, send half, hang up), "slow" (send
    half, wait for ``release``, then the rest) or "trickle" (one byte every ``trickle_interval``
    seconds until the client goes or ``release``); anything else is a 404. ``requests`` logs paths."""

    def __init__(self):
        self.routes, self.requests, self.trickle_interval = {}, [], 5.0
        self.release, self.half_sent = threading.Event(), threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                mode, body = server.routes.get(self.path, ("404", b""))
                if mode == "404":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "ok":
                    self.wfile.write(body)
                    return
                if mode == "trickle":
                    try:
                        for i in range(len(body)):
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                            if server.release.wait(server.trickle_interval):
                                return
                    except OSError:  # the client gave up
                        return
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if mode == "slow":
                    server.half_sent.set()
                    server.release.wait(timeout=10)
                    self.wfile.write(body[len(body) // 2:])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def serve(self, prefix, blobs, mode="ok"):
        for name, body in blobs.items():
            self.routes[f"{prefix}/{name}"] = (mode, body)
        return f"{self.url}{prefix}/"

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def places(tmp_path, monkeypatch):
    data, cache, system = tmp_path / "data", tmp_path / "cache", tmp_path / "system"
    monkeypatch.setenv("NNSCRATCH_DATA", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(mnist_module, "SYSTEM_DIRS", [system])
    return {"data": data / "mnist", "cache": cache / "nnscratch" / "mnist", "system": system / "mnist"}


def refused_url():
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def files_in(folder):
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_download_verifies_and_saves(server, places):
    blobs, arrays = tiny_files()
    mirror = server.serve("/mnist", blobs)
    digests = {f: sha(b) for f, b in blobs.items()}
    (x, t), (xt, tt) = load_mnist(normalize=False, mirrors=[mirror], sha256=digests, timeout=TIMEOUT,
                                  progress=False)
    assert sorted(server.requests) == sorted(f"/mnist/{f}" for f in FILES)
    np.testing.assert_array_equal(x.reshape(5, 28, 28), arrays[FILES[0]])
    assert t.tolist() == [5, 0, 4, 1, 9] and tt.tolist() == [7, 2, 1] and xt.shape == (3, 784)
    assert files_in(places["cache"]) == sorted(list(FILES) + ["parsed"])  # no temporary files
    for f in FILES:
        assert (places["cache"] / f).read_bytes() == blobs[f]
    assert dataset_status("mnist") == {f: places["cache"] / f for f in FILES}
    # now everything is local: no further requests
    server.requests.clear()
    assert fetch("mnist", mirrors=[mirror], sha256=digests, timeout=TIMEOUT, progress=False) == places["cache"]
    assert server.requests == []


def test_module_table_is_overridable(server, places, monkeypatch):
    blobs, arrays = tiny_files(seed=3)
    mirror = server.serve("/table", blobs)
    info = mnist_module.DATASETS["mnist"]
    monkeypatch.setattr(info, "mirrors", [mirror])
    monkeypatch.setattr(info, "sha256", {f: {sha(b)} for f, b in blobs.items()})
    (x, t), _ = load_mnist(flatten=False, progress=False)
    np.testing.assert_array_equal(x[:, 0], arrays[FILES[0]] / np.float32(255))
    assert len(server.requests) == 4


def test_download_into_root(server, places, tmp_path):
    blobs, _ = tiny_files()
    mirror = server.serve("/m", blobs)
    root = tmp_path / "mine"
    folder = fetch("mnist", root=root, mirrors=[mirror], sha256={f: sha(b) for f, b in blobs.items()},
                   timeout=TIMEOUT, progress=False)
    assert folder == root / "mnist" and files_in(folder) == sorted(FILES)
    assert not places["cache"].exists()


def test_file_appears_only_complete(server, places):
    blobs, _ = tiny_files()
    mirror = server.serve("/slow", {FILES[0]: blobs[FILES[0]]}, mode="slow")
    target = places["cache"] / FILES[0]
    errors = []

    def run():
        try:
            download_module.download_file(mirror + FILES[0], target, {sha(blobs[FILES[0]])}, TIMEOUT, progress=False)
        except Exception as e:  # reported below
            errors.append(e)

    places["cache"].mkdir(parents=True)
    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert server.half_sent.wait(timeout=TIMEOUT)  # the download is under way, half sent
        partial = files_in(places["cache"])
        assert len(partial) == 1 and partial[0].startswith(f".{FILES[0]}.") and partial[0].endswith(".part")
        assert not target.exists()  # nothing under the real name yet
    finally:
        server.release.set()
        worker.join(timeout=TIMEOUT)
    assert not worker.is_alive() and errors == []
    assert target.read_bytes() == blobs[FILES[0]]
    assert files_in(places["cache"]) == [FILES[0]]  # the temporary file became the real one


def test_checksum_mismatch_leaves_nothing(server, places):
    blobs, _ = tiny_files()
    other, _ = tiny_files(seed=1)
    mirror = server.serve("/bad", other)  # a mirror serving different files
    digests = {f: sha(b) for f, b in blobs.items()}
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(mirrors=[mirror], sha256=digests, timeout=TIMEOUT, progress=False)
    message = str(info.value)
    assert f"{mirror}{FILES[0]}: SHA-256 mismatch: got {sha(other[FILES[0]])}, expected {digests[FILES[0]]}" in message
    assert files_in(places["cache"]) == []  # neither the file nor its temporary copy
    assert server.requests == [f"/bad/{FILES[0]}"]  # the first file failed everywhere: stop there
    # the same directly
    with pytest.raises(ChecksumError, match="SHA-256 mismatch"):
        download_module.download_file(mirror + FILES[1], places["cache"] / FILES[1], {digests[FILES[1]]}, TIMEOUT,
                                      False)
    assert files_in(places["cache"]) == []


@pytest.mark.parametrize("failure", ["404", "refused", "truncated", "checksum"])
def test_next_mirror_after_a_failure(server, places, failure):
    blobs, arrays = tiny_files()
    good = server.serve("/good", blobs)
    if failure == "404":
        bad = f"{server.url}/missing/"
    elif failure == "refused":
        bad = refused_url()
    elif failure == "truncated":
        bad = server.serve("/cut", blobs, mode="truncate")
    else:
        bad = server.serve("/other", tiny_files(seed=1)[0])
    (x, t), _ = load_mnist(normalize=False, mirrors=[bad, good], sha256={f: sha(b) for f, b in blobs.items()},
                           timeout=TIMEOUT, progress=False)
    assert t.tolist() == [5, 0, 4, 1, 9]
    np.testing.assert_array_equal(x.reshape(5, 28, 28), arrays[FILES[0]])
    good_requests = [r for r in server.requests if r.startswith("/good/")]
    assert sorted(good_requests) == sorted(f"/good/{f}" for f in FILES)
    if failure != "refused":
        assert len(server.requests) == 8  # each file: the bad mirror once, then the good one
    assert files_in(places["cache"]) == sorted(list(FILES) + ["parsed"])


def test_all_mirrors_failing(server, places):
    blobs, _ = tiny_files()
    mirrors = [f"{server.url}/nothing-here/", refused_url()]
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(mirrors=mirrors, sha256={f: sha(b) for f, b in blobs.items()}, timeout=TIMEOUT, progress=False)
    error, message = info.value, str(info.value)
    assert isinstance(error, FileNotFoundError)
    assert error.locations == [places["data"], places["cache"], places["system"]]
    for folder in error.locations:  # every place looked, by its actual path
        assert str(folder) in message
    assert f"{mirrors[0]}{FILES[0]}: HTTP 404" in message
    assert f"{mirrors[1]}{FILES[0]}: " in message and "refused" in message.lower()
    # the three fixes
    assert f"set NNSCRATCH_DATA to a folder containing mnist/ with the four files ({', '.join(FILES)})" in message
    assert f"copy the four files into {places['cache']}/" in message
    assert "run `nnscratch data fetch mnist`" in message
    assert files_in(places["cache"]) == []
    assert server.requests == [f"/nothing-here/{FILES[0]}"]


def test_download_false_never_touches_the_network(server, places):
    blobs, _ = tiny_files()
    mirror = server.serve("/mnist", blobs)
    with pytest.raises(DatasetNotFoundError, match="download=False") as info:
        load_mnist(download=False, mirrors=[mirror], sha256={f: sha(b) for f, b in blobs.items()})
    assert server.requests == [] and info.value.failures == []
    assert "nnscratch data fetch mnist" in str(info.value)


def test_progress_line_without_a_terminal(server, places, capsys):
    blobs, _ = tiny_files()
    mirror = server.serve("/mnist", blobs)
    fetch("mnist", mirrors=[f"{server.url}/gone/", mirror], sha256={f: sha(b) for f, b in blobs.items()},
          timeout=TIMEOUT)
    err = capsys.readouterr().err
    assert f"nnscratch: {server.url}/gone/{FILES[0]} failed: HTTP 404" in err
    assert f"nnscratch: downloading {mirror}{FILES[0]}" in err
    assert f"nnscratch: saved {places['cache'] / FILES[0]}" in err and "SHA-256 ok" in err
    assert err.count("SHA-256 ok") == 4


def bounded(fn, seconds):
    """``fn()``'s result (or its exception, raised here), failing the test if it runs longer than
    ``seconds``: a download that does not give up must not hang the test run."""
    outcome = {}

    def run():
        try:
            outcome["value"] = fn()
        except Exception as e:  # re-raised in the test's thread
            outcome["error"] = e

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still downloading after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_trickling_mirror_misses_the_deadline_then_the_next_mirror_serves(server, places, monkeypatch, capsys):
    blobs, arrays = tiny_files()
    monkeypatch.setattr(download_module, "DOWNLOAD_DEADLINE", 0.5)
    monkeypatch.setattr(download_module, "RATE_GRACE", 60.0)  # only the deadline applies here
    trickle = server.serve("/trickle", {FILES[0]: blobs[FILES[0]]}, mode="trickle")  # a byte every 5 s
    good = server.serve("/good", blobs)
    start = time.monotonic()
    (x, t), _ = bounded(lambda: load_mnist(normalize=False, mirrors=[trickle, good],
                                           sha256={f: sha(b) for f, b in blobs.items()}, timeout=TIMEOUT), 20)
    assert time.monotonic() - start < 3  # the deadline, not the 5 s between bytes nor the 30 s timeout
    err = capsys.readouterr().err
    assert re.search(rf"nnscratch: {re.escape(trickle + FILES[0])} failed: gave up after 0\.\d s with \d of "
                     rf"{len(blobs[FILES[0]]):,} bytes received: the deadline is 0.5 s per file", err), err
    np.testing.assert_array_equal(x.reshape(5, 28, 28), arrays[FILES[0]])  # nothing lost: the next mirror served
    assert t.tolist() == [5, 0, 4, 1, 9]
    assert files_in(places["cache"]) == sorted(list(FILES) + ["parsed"])  # no temporary left


def test_a_mirror_below_the_minimum_rate_is_abandoned(server, places, monkeypatch):
    blobs, _ = tiny_files()
    server.trickle_interval = 0.02  # about 50 bytes/s
    monkeypatch.setattr(download_module, "RATE_GRACE", 0.5)
    mirror = server.serve("/trickle", blobs, mode="trickle")
    places["cache"].mkdir(parents=True)
    start = time.monotonic()
    with pytest.raises(download_module.SlowDownloadError, match=r"bytes/s \(\d+ of [\d,]+ bytes in 0\.\d s\), below "
                                                             r"the minimum of 1,000 bytes/s") as info:
        bounded(lambda: download_module.download_file(mirror + FILES[0], places["cache"] / FILES[0],
                                                   {sha(blobs[FILES[0]])}, TIMEOUT, False, min_rate=1000), 20)
    assert isinstance(info.value, TimeoutError) and time.monotonic() - start < 3
    assert files_in(places["cache"]) == []  # its temporary is gone


def test_stale_temporaries_are_removed_at_the_next_start(server, places):
    fcntl = pytest.importorskip("fcntl")
    blobs, _ = tiny_files()
    mirror = server.serve("/mnist", blobs)
    places["cache"].mkdir(parents=True)
    killed = places["cache"] / f".{FILES[0]}.k1ll3d.part"  # left by a download that was killed
    killed.write_bytes(blobs[FILES[0]][:100])
    running = places["cache"] / f".{FILES[1]}.runn1n.part"  # another process is downloading it now
    running.write_bytes(b"")
    other = places["cache"] / ".notes.txt.x.part"  # not ours
    other.write_bytes(b"")
    hour_ago = time.time() - 3600
    for path in (killed, running, other):
        os.utime(path, (hour_ago, hour_ago))
    with open(running, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        fetch("mnist", mirrors=[mirror], sha256={f: sha(b) for f, b in blobs.items()}, timeout=TIMEOUT,
              progress=False)
        assert not killed.exists() and running.exists() and other.exists()
    assert files_in(places["cache"]) == sorted([*FILES, running.name, other.name])
    for f in FILES:
        assert (places["cache"] / f).read_bytes() == blobs[f]
