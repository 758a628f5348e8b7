"""The playground server's resource bounds (``nnscratch serve --help`` lists them as options).

The defaults hold a class of learners on one laptop (measured in benchmarks/README.md: 256
clients at once, 1,000 stalled connections) while bounding what a hostile client can take:
bodies and images are refused from their headers before they are read or decoded, a client that
stops sending is dropped after ``read_timeout``, and NumPy work runs on ``workers`` threads.
"""

import os
from dataclasses import dataclass, field

MiB = 2**20


def _default_workers():
    return max(2, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Limits:
    """Bounds of one playground server; each field is a ``nnscratch serve`` option."""

    backlog: int = 1024  # connections waiting to be accepted (the kernel caps it at net.core.somaxconn)
    max_connections: int = 2048  # connections (and requests) at once; a request over it is answered 503
    keep_alive: float = 5.0  # seconds an idle keep-alive connection stays open
    read_timeout: float = 10.0  # seconds a client has to send its request headers, and again its body
    max_body: int = 4 * MiB  # bytes of a POST body; a larger Content-Length is refused before reading
    max_pixels: int = 2048 * 2048  # width x height of an uploaded image, checked before decoding
    workers: int = field(default_factory=_default_workers)  # threads for decoding and forward passes

    def __post_init__(self):
        for name in ("backlog", "max_connections", "max_body", "max_pixels", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        for name in ("keep_alive", "read_timeout"):
            if not 0 < getattr(self, name) < float("inf"):
                raise ValueError(f"{name.replace('_', '-')} must be a positive number of seconds, "
                                 f"got {getattr(self, name)}")
