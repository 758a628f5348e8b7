"""The playground's HTTP server: the web application (``app``) on uvicorn, within ``Limits``.

``make_server`` binds the listening socket at once (so a taken port is a clear error before
anything starts, and port 0 tells its real number), ``serve_forever`` runs uvicorn's event loop
on it, in the main thread (``nnscratch serve``) or in a daemon thread (``start_in_thread``:
``nnscratch train --serve`` and the tests), until ``shutdown``.

uvicorn bounds the connections (``--max-connections``, a 503 beyond) and idle keep-alive
connections; it has no deadline for a request's headers, so ``HeaderDeadline`` adds one, and the
application gives the body its own (``--read-timeout``).
"""

import errno
import functools
import ipaddress
import os
import resource
import socket
import threading

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .hosts import HostCheck
from .limits import Limits
from .store import ModelStore

GRACE = 1  # seconds that open requests (such as event streams) get to finish when the server stops


class HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 connection, closed when a request's headers are not complete within
    ``header_timeout`` seconds of the connection opening or of the previous answer."""

    def __init__(self, *args, header_timeout, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout, self._deadline = header_timeout, None

    def _arm(self):
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _expire(self):
        waiting = self.cycle is None or self.cycle.response_complete  # no request in progress: none arrived
        if waiting and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self):
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc):
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)


def _listening_socket(host, port, backlog):
    """A TCP socket bound to (host, port) and listening, or an OSError that says what to do."""
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range; choose one from 1024 to 65535 with --port "
                         "(or --port 0 for any free port)")
    try:
        family = socket.AF_INET6 if isinstance(ipaddress.ip_address(host.strip("[]")), ipaddress.IPv6Address) \
            else socket.AF_INET
    except ValueError:  # a host name
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise OSError(f"port {port} on {host} is already in use (is another server running?); choose "
                          "another with --port, or --port 0 for any free port") from None
        if e.errno == errno.EACCES:
            raise OSError(f"no permission to listen on port {port} (ports below 1024 need root); "
                          "choose one above 1024 with --port") from None
        if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:
            raise OSError(f"cannot listen on host {host!r} ({e.strerror}); use 127.0.0.1 or a local address "
                          "with --host") from None
        raise
    sock.setblocking(False)
    return sock


def _allow_open_files(count):
    """Raise this process's open-file limit to ``count`` (as far as the hard limit allows): every
    connection is a file descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class Playground:
    """A bound playground server: ``store`` (a ModelStore), ``feed`` (a LiveFeed or None),
    ``server_address`` (host, port), ``url``. Run it with ``serve_forever``; stop it with
    ``shutdown()`` then ``server_close()``."""

    def __init__(self, store, host, port, feed=None, limits=None, allow_hosts=(), quiet=True):
        self.store, self.feed, self.limits = store, feed, limits or Limits()
        self.socket = _listening_socket(host, port, self.limits.backlog)
        self.server_address = self.socket.getsockname()[:2]
        _allow_open_files(self.limits.max_connections + 64)
        self.app = create_app(store, feed, self.limits, HostCheck(host, allow_hosts))
        config = uvicorn.Config(
            self.app, log_level="info" if not quiet else "warning", access_log=not quiet, lifespan="off",
            ws="none", server_header=False, backlog=self.limits.backlog, timeout_keep_alive=self.limits.keep_alive,
            # uvicorn counts the asking connection too, and refuses at >= its limit: + 1 serves
            # max_connections at once (with the limit itself, the 4th of 4 could be refused)
            limit_concurrency=self.limits.max_connections + 1, timeout_graceful_shutdown=GRACE,
            http=functools.partial(HeaderDeadline, header_timeout=self.limits.read_timeout))
        self.server = uvicorn.Server(config)
        self._stopped = threading.Event()
        self._started = False

    @property
    def url(self):
        host, port = self.server_address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def serve_forever(self):
        """Serve until ``shutdown`` (or, in the main thread, Ctrl-C: then KeyboardInterrupt is raised)."""
        self._started = True
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self):
        """Stop serving (event streams end, open requests get GRACE seconds) and wait until it has stopped."""
        if self.feed is not None:
            self.feed.close()
        self.server.should_exit = True
        if self._started:
            self._stopped.wait()

    def server_close(self):
        """Release the socket and the worker threads."""
        self.socket.close()
        self.app.state.pool.shutdown(wait=False, cancel_futures=True)


def make_server(paths, host="127.0.0.1", port=8000, feed=None, quiet=True, limits=None, allow_hosts=()):
    """A bound (not yet serving) Playground over the models under ``paths``; port 0 picks a free one."""
    return Playground(ModelStore(paths), host, port, feed=feed, limits=limits, allow_hosts=allow_hosts, quiet=quiet)


def start_in_thread(server):
    """Serve in a daemon thread (train --serve, tests); returns the thread. Stop with
    ``server.shutdown(); server.server_close()``."""
    thread = threading.Thread(target=server.serve_forever, name="nnscratch-playground", daemon=True)
    thread.start()
    return thread


def default_paths():
    """What ``nnscratch serve`` without arguments shows: the run directories under ./runs."""
    if not os.path.isdir("runs"):
        raise FileNotFoundError("no run directories given and there is no ./runs folder; train one with "
                                "'nnscratch train' or name run directories: nnscratch serve runs/a runs/b")
    return ["runs"]


def _print(message):
    print(message, flush=True)  # at once, also into a pipe: whoever started the server waits for the URL


def announce(server, log=_print):
    """Print where the playground is (and a warning when it is reachable from other machines)."""
    log(f"nnscratch playground at {server.url}  (Ctrl-C to stop)")
    host = server.server_address[0]
    if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
        log(f"warning: listening on {host}, so other machines can reach it; use --host 127.0.0.1 to keep it local")


def serve(paths=None, host="127.0.0.1", port=8000, quiet=True, limits=None, allow_hosts=(), log=_print):
    """Run the playground until Ctrl-C (``nnscratch serve``)."""
    server = make_server(paths or default_paths(), host, port, quiet=quiet, limits=limits, allow_hosts=allow_hosts)
    announce(server, log)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log("nnscratch playground stopped")
    finally:
        server.server_close()
    return 0
