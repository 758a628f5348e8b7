"""malloc keeps freed memory once a process trains (``backend.keep_freed_memory``): set at the
first backward(), not at import, never with NNSCRATCH_MALLOC_TUNING=0. Each case runs in a fresh
process, since the setting is process-wide and cannot be undone."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                                reason="malloc's settings are changed on Linux with glibc only")

# Frees a touched 64 MiB array and reports how much of it left the process's resident memory.
SCRIPT = """
import numpy as np
import nnscratch as ns
from nnscratch import backend

def rss_mib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

if {train}:
    w = ns.ones(3, requires_grad=True)
    (w * w).sum().backward()
a = np.ones(64 << 18, np.float32)  # 64 MiB, every page touched
before = rss_mib()
del a
print(backend.malloc_tuned, before - rss_mib())
"""


def run(train, tuning=None):
    env = {k: v for k, v in os.environ.items() if k != "NNSCRATCH_MALLOC_TUNING"}
    if tuning is not None:
        env["NNSCRATCH_MALLOC_TUNING"] = tuning
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(train=train)], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    return out[0], float(out[1])


def test_import_alone_leaves_malloc_as_it_was():
    tuned, returned = run(train=False)
    assert tuned == "None"
    assert returned > 48  # glibc hands a freed 64 MiB block back to the system


def test_the_first_backward_keeps_freed_memory():
    tuned, returned = run(train=True)
    assert tuned == "True"
    assert returned < 8  # kept for the next step


def test_tuning_off_by_environment():
    tuned, returned = run(train=True, tuning="0")
    assert tuned == "False"
    assert returned > 48


def test_tuning_at_import_by_environment():
    tuned, returned = run(train=False, tuning="1")
    assert tuned == "True"
    assert returned < 8
