"""Communicators: the collective operations data-parallel training needs, on MPI or NCCL.

``size`` processes each hold arrays of the same shapes; a collective combines them::

    allreduce_mean([a, b, ...])   a <- (1/size) sum over processes of a   (every array, in place)
    broadcast([a, b, ...], root)  a <- a of process ``root``               (every array, in place)
    allreduce_scalar(x, op)       sum, mean or max of a Python float over the processes
    barrier()                     wait until every process gets here

The arrays of one call are packed into ONE flat buffer (they must share a dtype), so a
training step costs one collective per optimizer, not one per parameter (as ChainerMN's
``pure_nccl_communicator`` does).

Three implementations, chosen by :func:`get_communicator`:

- ``"none"``: :class:`SingleProcessCommunicator`, rank 0 of 1; every collective is the
  identity and nothing of MPI is imported (the default).
- ``"mpi"``: :class:`MPICommunicator`, mpi4py's ``Allreduce`` / ``Bcast`` on NumPy buffers;
  CuPy arrays are staged through host memory unless the MPI is CUDA-aware (``cuda_aware=True``).
- ``"nccl"``: :class:`NCCLCommunicator`, ``cupy.cuda.nccl`` between GPUs (one per process,
  chosen by the local rank), its unique id broadcast over MPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigan.backend import get_array_module

COMMUNICATORS = ("none", "mpi", "nccl")
SCALAR_OPS = ("sum", "mean", "max")
_MPI_HINT = (
    'install it with: pip install "minigan[distributed]" (mpi4py), plus an MPI library: '
    "pip install mpich on a laptop or in CI, the cluster's own MPI elsewhere"
)


class DistributedError(RuntimeError):
    """A communicator cannot be created on this machine."""


def _pack(arrays: Sequence[Any]) -> Any:
    """One flat buffer holding every array, in order (all must share a dtype)."""
    dtypes = sorted({str(a.dtype) for a in arrays})
    if len(dtypes) > 1:
        raise ValueError(f"communicator: expected arrays of one dtype (one flat buffer), got {', '.join(dtypes)}")
    return get_array_module(arrays[0]).concatenate([a.reshape(-1) for a in arrays])


def _unpack(flat: Any, arrays: Sequence[Any]) -> None:
    """Copy the flat buffer back into the arrays it was packed from."""
    offset = 0
    for a in arrays:
        a[...] = flat[offset:offset + a.size].reshape(a.shape)
        offset += a.size


class Communicator:
    """The collectives, written once over two primitives of the subclasses:
    ``_sum(flat)`` (sum-allreduce in place) and ``_broadcast(flat, root)`` (in place)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0  # the rank among the processes of this machine (picks the GPU)

    def allreduce_mean(self, arrays: Sequence[Any]) -> None:
        """``a <- (1/size) sum_r a_r`` for every array, in place, through one flat buffer."""
        if self.size == 1 or not arrays:
            return
        flat = _pack(arrays)
        self._sum(flat)
        flat /= self.size
        _unpack(flat, arrays)

    def broadcast(self, arrays: Sequence[Any], root: int = 0) -> None:
        """Every process's arrays become process ``root``'s, in place, through one flat buffer."""
        if not 0 <= root < self.size:
            raise ValueError(f"broadcast: expected 0 <= root < {self.size}, got {root}")
        if self.size == 1 or not arrays:
            return
        flat = _pack(arrays)
        self._broadcast(flat, root)
        _unpack(flat, arrays)

    def allreduce_scalar(self, value: float, op: str = "sum") -> float:
        """The ``op`` (``"sum"``, ``"mean"`` or ``"max"``) of ``value`` over the processes.

        ``"max"`` of a 0/1 flag is "any process wants to stop"; ``"mean"`` averages a logged figure.
        """
        if op not in SCALAR_OPS:
            raise ValueError(f"allreduce_scalar: expected op in {SCALAR_OPS}, got {op!r}")
        if self.size == 1:
            return float(value)
        total = self._scalar(float(value), "max" if op == "max" else "sum")
        return total / self.size if op == "mean" else total

    def barrier(self) -> None:
        """Return once every process has called it."""

    def _sum(self, flat: Any) -> None:
        raise NotImplementedError

    def _broadcast(self, flat: Any, root: int) -> None:
        raise NotImplementedError

    def _scalar(self, value: float, op: str) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rank={self.rank}, size={self.size}, local_rank={self.local_rank})"


class SingleProcessCommunicator(Communicator):
    """One process, rank 0 of 1: every collective is the identity. Needs no MPI."""


def _import_mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise DistributedError(f"distributed training over MPI needs mpi4py, which is not installed; "
                               f"{_MPI_HINT}") from exc
    return MPI


class MPICommunicator(Communicator):
    """The processes of an MPI communicator (default ``COMM_WORLD``), through mpi4py.

    NumPy buffers go to ``Allreduce(IN_PLACE, ...)`` and ``Bcast`` directly. A CuPy buffer is
    copied to the host, reduced there and copied back, unless ``cuda_aware=True`` says the MPI
    library reads device memory itself (MPICH or Open MPI built with CUDA; the pip wheels are not).
    """

    def __init__(self, comm: Any = None, cuda_aware: bool = False) -> None:
        self._MPI = _import_mpi()
        self.comm = self._MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        node = self.comm.Split_type(self._MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank = node.Get_rank()
        node.Free()
        self.cuda_aware = bool(cuda_aware)

    def _on_host(self, flat: Any, collective: Any) -> None:
        """Run ``collective(buffer)`` on ``flat``, staging a device buffer through the host."""
        if not type(flat).__module__.startswith("cupy"):
            collective(flat)
            return
        import cupy

        cupy.cuda.get_current_stream().synchronize()  # MPI must not read before the kernels finish
        if self.cuda_aware:
            collective(flat)
            return
        host = cupy.asnumpy(flat)
        collective(host)
        flat.set(host)

    def _sum(self, flat: Any) -> None:
        self._on_host(flat, lambda buffer: self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM))

    def _broadcast(self, flat: Any, root: int) -> None:
        self._on_host(flat, lambda buffer: self.comm.Bcast(buffer, root=root))

    def _scalar(self, value: float, op: str) -> float:
        return float(self.comm.allreduce(value, op=self._MPI.MAX if op == "max" else self._MPI.SUM))

    def barrier(self) -> None:
        self.comm.Barrier()


class NCCLCommunicator(Communicator):
    """GPUs, one per process, through ``cupy.cuda.nccl``; MPI starts the processes, broadcasts
    NCCL's unique id from rank 0, and carries the scalar collectives and the barrier.

    The process uses GPU ``local_rank`` of its machine. Collectives run on CuPy's current
    stream, so they are ordered with the kernels around them without a host synchronisation.
    """

    def __init__(self, comm: Any = None) -> None:
        self.mpi = MPICommunicator(comm)
        self.rank, self.size, self.local_rank = self.mpi.rank, self.mpi.size, self.mpi.local_rank
        try:
            import cupy
            from cupy.cuda import nccl
        except ImportError as exc:
            raise DistributedError(f"the 'nccl' communicator needs CuPy ({exc})") from exc
        if not nccl.available:
            raise DistributedError('the \'nccl\' communicator needs NCCL: pip install "nvidia-nccl-cu12>=2.18"')
        gpus = cupy.cuda.runtime.getDeviceCount()
        if self.local_rank >= gpus:
            raise DistributedError(
                f"the 'nccl' communicator needs one GPU per process: local rank {self.local_rank}, "
                f"but this machine has {gpus} GPU(s)"
            )
        cupy.cuda.Device(self.local_rank).use()
        unique_id = self.mpi.comm.bcast(nccl.get_unique_id() if self.rank == 0 else None, root=0)
        self.nccl = nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self._cupy, self._types = cupy, {"float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64}
        self._sum_op = nccl.NCCL_SUM

    def _device_buffer(self, flat: Any) -> tuple[Any, int]:
        if not type(flat).__module__.startswith("cupy"):
            raise ValueError(f"NCCLCommunicator: expected CuPy arrays (--backend cupy), got {type(flat).__name__}")
        if str(flat.dtype) not in self._types:
            raise ValueError(f"NCCLCommunicator: expected float32 or float64 arrays, got {flat.dtype}")
        return self._types[str(flat.dtype)], self._cupy.cuda.get_current_stream().ptr

    def _sum(self, flat: Any) -> None:
        dtype, stream = self._device_buffer(flat)
        self.nccl.allReduce(flat.data.ptr, flat.data.ptr, flat.size, dtype, self._sum_op, stream)

    def _broadcast(self, flat: Any, root: int) -> None:
        dtype, stream = self._device_buffer(flat)
        self.nccl.bcast(flat.data.ptr, flat.size, dtype, root, stream)

    def _scalar(self, value: float, op: str) -> float:
        return self.mpi._scalar(value, op)

    def barrier(self) -> None:
        self.mpi.barrier()


def get_communicator(kind: str = "none", cuda_aware: bool = False) -> Communicator:
    """The communicator of this process: ``"none"`` (one process), ``"mpi"`` or ``"nccl"``.

    Under ``mpiexec -n 4 python -m mpi4py script.py``, ``get_communicator("mpi")`` has size 4;
    the same script run without mpiexec gets size 1. ``cuda_aware`` is for ``"mpi"`` only.
    """
    if kind not in COMMUNICATORS:
        raise ValueError(f"get_communicator: expected kind in {COMMUNICATORS}, got {kind!r}")
    if kind == "none":
        return SingleProcessCommunicator()
    if kind == "mpi":
        return MPICommunicator(cuda_aware=cuda_aware)
    return NCCLCommunicator()
