"""The communicator of this process: MPI's COMM_WORLD when an MPI launcher (mpiexec, mpirun,
srun) started it, else a single process of its own.

The dependencies go one way: this module imports ``communicator`` (the interface and the single
process) and, only when MPI is asked for, ``mpi`` (which imports mpi4py and ``communicator``).
"""

import os

from .communicator import SingleProcessCommunicator

MPI_INSTALL_HINT = ("install mpi4py and an MPI library with pip install 'nnscratch[mpi]' (the mpich wheel; no "
                    "compiler or system MPI needed), or on a cluster build mpi4py against its MPI "
                    "(see docs/distributed.md)")

_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                       "HYDI_CONTROL_FD", "SLURM_STEP_NUM_TASKS")


def launched_by_mpi():
    """Whether this process was started by an MPI launcher (mpiexec, mpirun, srun)."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def get_communicator(backend="auto", timeout=None):
    """A communicator: ``"mpi"`` (MPI's COMM_WORLD through mpi4py; ImportError with the install
    command when mpi4py or the MPI library is missing), ``"single"`` (one process), or ``"auto"``
    (MPI when launched by mpiexec/mpirun/srun, else single; under a launcher a missing mpi4py is
    the same ImportError, never N unconnected single processes). ``timeout``: see ``MPICommunicator``."""
    if backend == "single" or (backend == "auto" and not launched_by_mpi()):
        return SingleProcessCommunicator()
    if backend not in ("mpi", "auto"):
        raise ValueError(f"unknown communicator backend {backend!r}; choose mpi, single or auto")
    try:
        from .mpi import MPICommunicator  # imports mpi4py, so only here
        return MPICommunicator(timeout=timeout)
    except ImportError as e:
        raise ImportError(f"distributed training needs MPI, which is not available ({e}): {MPI_INSTALL_HINT}") from e
