"""How long the compiled kernels take to compile: the first DeepConvNet and LSTM training steps
(batch 8) in a fresh process with numba's cache in an empty folder, then again in a second process
that finds the cache.

    python benchmarks/bench_compile.py

Needs numba (``pip install "nnscratch[fast]"``). The cache folder is a temporary one (NUMBA_CACHE_DIR),
so the project's own ``__pycache__`` is left as it is.
"""

import os
import subprocess
import sys
import tempfile

STEPS = """
import sys, time
sys.path.insert(0, {here!r})
start = time.perf_counter()
from bench_plain_loop import build
from common import nnscratch_training_step
for name in ("deep-cnn", "lstm"):
    model, x, t = build(name)
    nnscratch_training_step(model, x[:8], t[:8])()
print("%.1f" % (time.perf_counter() - start))
"""


def main():
    code = STEPS.format(here=os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty cache (compiling)", "cache found"):
            seconds = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                                     text=True).stdout.strip()
            print("first DeepConvNet + LSTM steps, %-24s %s s" % (label + ":", seconds))


if __name__ == "__main__":
    main()
