"""nnscratch.threads: how a batch is cut into slices and run on several threads."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import threads


@pytest.fixture
def two_threads():
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(before)


@pytest.mark.parametrize("n", [1, 31, 63, 64, 65, 100, 1001])
def test_slices_cover_the_batch_once(two_threads, n):
    slices = threads.batch_slices(n)
    covered = np.concatenate([np.arange(n)[s] for s in slices])
    np.testing.assert_array_equal(covered, np.arange(n))
    assert len(slices) == (2 if n >= 2 * threads.MIN_SLICE else 1)


def test_every_slice_runs_and_errors_propagate(two_threads):
    out = np.zeros(100)

    def fill(s):
        out[s] = s.start

    threads.over_batch(fill, 100)
    assert set(out) == {s.start for s in threads.batch_slices(100)}

    def fail(s):
        if s.start > 0:
            raise RuntimeError("slice failed")

    if threads._executor() is not None:   # the threaded path exists (OpenBLAS found)
        with pytest.raises(RuntimeError, match="slice failed"):
            threads.over_batch(fail, 100)


def test_set_num_threads_checks_its_argument():
    with pytest.raises(ValueError, match="at least 1"):
        ns.set_num_threads(0)


def test_one_thread_gives_one_slice():
    before = threads.get_num_threads()
    ns.set_num_threads(1)
    try:
        assert threads.batch_slices(1000) == [slice(0, 1000)]
    finally:
        ns.set_num_threads(before)
