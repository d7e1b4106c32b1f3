"""Where the planner's routing parts run: this process (the default), a Dask cluster that is
already up (`--scheduler tcp://host:8786`), or a `LocalCluster` of worker processes started for
one run (`--workers N`).

The optimizer only sees a `concurrent.futures.Executor` (a Dask client's `get_executor()`), so it
never depends on Dask; Dask is the optional extra `chunyun[cluster]`. Parts are submitted as
impure tasks: Dask then keys them by a random id instead of hashing their arguments (tokenizing
a date-strategy part's units cost about ten times pickling them).

An engine's `description` and the refusals here are English templates of the message catalogue
(recognised below), shown in the dispatcher's language by the CLI (`detail_text`).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from api.i18n import N_, recognise
from optimizer.errors import InvalidInput

IN_PROCESS = N_("in this process")
PROCESS_POOL = N_("a process pool of {workers} (dask not installed)")
DASK_CLUSTER = N_("the Dask cluster {scheduler} ({slots} slots)")
LOCAL_CLUSTER = N_("a Dask LocalCluster of {workers} processes")
NO_DASK = N_("--scheduler needs dask.distributed, which is not installed: {command}")
NO_SCHEDULER = N_("no Dask scheduler answers at {scheduler}: {error}")
WORKERS_AT_LEAST_ONE = N_("workers must be at least 1")
recognise(
    IN_PROCESS,
    PROCESS_POOL,
    DASK_CLUSTER,
    LOCAL_CLUSTER,
    NO_DASK,
    NO_SCHEDULER,
    WORKERS_AT_LEAST_ONE,
)

CLUSTER_EXTRA = "pip install 'chunyun[cluster]'"


class ClusterUnavailable(InvalidInput):
    """Dask is not installed, or its scheduler cannot be reached."""


@dataclass(frozen=True)
class Engine:
    """An executor for the routing parts (None: the solver's own process pool) and the number of
    parts it runs at once (the solver splits its time budget by it); `description` says where
    the parts run, in English (a catalogue template, translated where it is shown)."""

    executor: concurrent.futures.Executor | None
    slots: int
    description: str


def dask_installed() -> bool:
    """Whether `dask.distributed` can be imported here."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def solve_engine(
    *, scheduler: str | None = None, workers: int | None = None, timeout_s: float = 30.0
) -> Iterator[Engine]:
    """The engine for one planning run; the cluster it started (if any) ends with the block.

    Parameters
    ----------
    scheduler
        Address of a running Dask scheduler (tcp://host:8786): parts run on its workers.
    workers
        Without `scheduler`: start a LocalCluster of this many single-threaded worker processes;
        without Dask installed, the solver's own process pool of this many processes.
    timeout_s
        Seconds to wait for the scheduler to answer.
    """
    if scheduler is None and workers is None:
        yield Engine(None, 1, IN_PROCESS)
        return
    if workers is not None and workers < 1:
        raise InvalidInput(WORKERS_AT_LEAST_ONE)
    if not dask_installed():
        if scheduler is not None:
            raise ClusterUnavailable(NO_DASK.format(command=CLUSTER_EXTRA))
        assert workers is not None
        yield Engine(None, workers, PROCESS_POOL.format(workers=workers))
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout_s)
        except OSError as error:
            raise ClusterUnavailable(
                NO_SCHEDULER.format(scheduler=scheduler, error=error)
            ) from None
        try:
            slots = max(1, sum(client.nthreads().values()))
            yield Engine(
                client.get_executor(pure=False),
                slots,
                DASK_CLUSTER.format(scheduler=scheduler, slots=slots),
            )
        finally:
            client.close()
        return
    assert workers is not None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,  # logging.ERROR: the CLI's progress bar is the output
    )
    try:
        with Client(cluster) as client:
            yield Engine(
                client.get_executor(pure=False),
                workers,
                LOCAL_CLUSTER.format(workers=workers),
            )
    finally:
        cluster.close()
