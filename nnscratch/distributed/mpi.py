"""MPICommunicator: the communicator interface over MPI's COMM_WORLD, through mpi4py.

Importing this module imports mpi4py (and so initialises MPI); nothing else in nnscratch does.

Failure behaviour. A collective operation waits for every rank, so one rank that dies or raises
would leave the others waiting forever. Two things prevent that:

- an uncaught exception on any rank prints ``nnscratch: error on rank R of N: ...`` and calls
  ``MPI_Abort``, which ends every process of the job (``sys.excepthook`` is replaced; the CLI
  does the same for the errors it catches). A rank that dies outright (killed, segfault) is
  noticed by the launcher (mpiexec), which ends the others.
- with ``timeout`` (seconds; default ``$NNSCRATCH_DIST_TIMEOUT``, else none) each collective
  is started non-blocking and polled: a rank that waited longer than that for the others aborts
  the job with a message naming the operation (the watchdog for a rank that hangs).
"""

import os
import sys
import time
import traceback

from mpi4py import MPI

from .communicator import Communicator


def _default_timeout():
    value = os.environ.get("NNSCRATCH_DIST_TIMEOUT")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"NNSCRATCH_DIST_TIMEOUT must be a number of seconds, got {value!r}") from None


class MPICommunicator(Communicator):
    """``MPI.COMM_WORLD`` (or ``comm``) as a Communicator; see the module docstring for
    ``timeout`` and for what happens when a rank fails."""

    def __init__(self, comm=None, timeout=None, abort_on_exception=True):
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout = _default_timeout() if timeout is None else timeout
        if abort_on_exception and self.size > 1:
            _install_excepthook(self)

    def bcast(self, obj, root=0):
        if self.size == 1:
            return obj
        if self.timeout:  # pickled broadcasts have no non-blocking form: first meet at a watched barrier
            self._wait(self.comm.Ibarrier(), "bcast")
        return self.comm.bcast(obj, root=root)

    def bcast_array_(self, array, root=0):
        if self.size > 1:
            self._wait(self.comm.Ibcast(array, root=root), "bcast_array_")
        return array

    def allreduce_sum(self, array):
        if self.size > 1:
            self._wait(self.comm.Iallreduce(MPI.IN_PLACE, array, op=MPI.SUM), "allreduce")
        return array

    def barrier(self):
        if self.size > 1:
            self._wait(self.comm.Ibarrier(), "barrier")

    def abort(self, code=1):
        sys.stdout.flush()
        sys.stderr.flush()
        # mpiexec forwards each rank's output through pipes and stops reading them when the job is
        # aborted: without a moment's pause this rank's last message was lost about 1 run in 30
        time.sleep(0.5)
        self.comm.Abort(code)

    def _wait(self, request, operation):
        if not self.timeout:
            request.Wait()
            return
        deadline = time.monotonic() + self.timeout
        spins = 0
        while not request.Test():
            spins += 1
            if spins > 1000:  # after ~a millisecond of spinning, yield the core to the other ranks
                time.sleep(0.0005)
                if time.monotonic() > deadline:
                    print(f"nnscratch: error on rank {self.rank} of {self.size}: waited {self.timeout:g} s for the "
                          f"other ranks in {operation}; one of them is stuck or dead, so the job is stopped "
                          "(set NNSCRATCH_DIST_TIMEOUT to wait longer)", file=sys.stderr, flush=True)
                    self.abort(1)


def _install_excepthook(comm):
    previous = sys.excepthook

    def abort_job(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
        else:
            traceback.print_exception(kind, value, tb)
            print(f"nnscratch: error on rank {comm.rank} of {comm.size}: {kind.__name__}: {value}; stopping all "
                  f"{comm.size} ranks", file=sys.stderr, flush=True)
        comm.abort(1)

    sys.excepthook = abort_job

