"""Where generation jobs run: an embedded pool in the server, or Celery workers.

Both sit over the job table (DESIGN.md "Jobs"): the service enqueues a row
with `store.jobs.enqueue` and then calls `queue.submit(job_id)`; a worker
claims it under a lease, runs `execute`, and the result lives in the database.

Embedded pool: processes, not threads. Rendering is numpy and pure-Python
work that holds the GIL for long stretches; run in threads inside the server
it can stall the event loop. benchmarks/generate_throughput.py measures the
server's scheduling lag while the pool renders, threads vs processes (see
benchmarks/results/generate_throughput.json; on the shared, overloaded 2-core
dev machine the two were within noise, so re-measure on real hardware).
Processes are chosen also for isolation: a crashing or killed render cannot
take the server down. They are started with
`spawn` (no forked database connections or threads), each running its own
claim loop against the shared database, so the pool also survives a crash of
one worker: the supervisor restarts it and the job's lease expires and is
claimed again. Each pool process watches its parent and exits the moment the
server is gone (even by SIGKILL), and a starting pool requeues at once the jobs
held by dead pool processes of this host. Threads remain available
(`mode="thread"`) for tests and tiny deployments.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue as queue_mod
import signal
import threading
import time
from typing import Any, Literal, Protocol, runtime_checkable

from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings
from soundstar.errors import ConfigError
from soundstar.jobs.request import execute
from soundstar.jobs.runtime import (
    AuroraFactory,
    default_aurora_factory,
    local_pid,
    open_store,
    process_alive,
    record_cache_counters,
    worker_id,
)
from soundstar.store.repository import Store

log = logging.getLogger(__name__)

PoolMode = Literal["process", "thread"]
POLL_S = 1.0
STOP_GRACE_S = 30.0
SUPERVISE_S = 1.0
PARENT_CHECK_S = 0.5
PARENT_GONE_EXIT = 3
EMBEDDED_KIND = "embedded"


@runtime_checkable
class JobQueue(Protocol):
    """Runs queued jobs somewhere; `describe()` is what /health shows."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def submit(self, job_id: str) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class _Waiter(Protocol):
    def get(self, block: bool = True, timeout: float | None = None) -> Any: ...


class _Flag(Protocol):
    def is_set(self) -> bool: ...


def claim_loop(
    store: Store,
    settings: Settings,
    aurora: Aurora,
    owner: str,
    wake: _Waiter,
    stopping: _Flag,
    poll_s: float = POLL_S,
) -> None:
    """Claim and run jobs until `stopping` is set; sleep on `wake` (or `poll_s`) when idle.

    Idle workers also sweep expired leases every `lease_s`, so a job whose
    worker died and has no attempts left is failed rather than left behind.
    """
    lease_s = settings.jobs.lease_s
    last_sweep = time.monotonic()
    while not stopping.is_set():
        try:
            job = store.jobs.claim(owner, lease_s)
        except Exception:
            log.exception("worker %s could not claim a job", owner)
            job = None
        if job is not None:
            execute(store, settings, job, owner, aurora)
            record_cache_counters(store, owner, aurora)
            continue
        if time.monotonic() - last_sweep >= lease_s:
            last_sweep = time.monotonic()
            try:
                store.jobs.requeue_expired()
            except Exception:
                log.exception("worker %s could not sweep expired leases", owner)
        with contextlib.suppress(queue_mod.Empty):
            wake.get(timeout=poll_s)


def _die_with_parent(parent_pid: int, interval_s: float = PARENT_CHECK_S) -> None:
    """End this process the moment its server is gone (even by SIGKILL, which runs no
    clean-up): a worker orphaned to init would go on claiming jobs with dead settings.
    The job it held is run again when its lease expires."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(PARENT_GONE_EXIT)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="soundstar-parent-watch", daemon=True).start()


def _process_main(
    parent_pid: int,
    db_url: str,
    settings: Settings,
    aurora_factory: AuroraFactory,
    index: int,
    wake: _Waiter,
    stopping: _Flag,
    poll_s: float,
) -> None:
    """A spawned pool process: its own database engine and Aurora, then the claim loop."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when we stop
    logging.basicConfig(level=logging.INFO)
    store = open_store(settings, db_url)
    try:
        claim_loop(
            store,
            settings,
            aurora_factory(settings),
            worker_id(EMBEDDED_KIND, index),
            wake,
            stopping,
            poll_s,
        )
    finally:
        store.db.dispose()


class EmbeddedQueue:
    """A pool of `settings.jobs.workers` workers inside the server process."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        aurora_factory: AuroraFactory = default_aurora_factory,
        *,
        mode: PoolMode = "process",
        workers: int | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        if mode not in ("process", "thread"):
            raise ConfigError(f"unknown pool mode {mode!r}: use 'process' or 'thread'")
        self._store, self._settings, self._factory = store, settings, aurora_factory
        self.mode: PoolMode = mode
        self.workers = workers or settings.jobs.workers
        self._poll_s = poll_s
        self._ctx = multiprocessing.get_context("spawn")
        self._wake: Any = None
        self._stopping: Any = None
        self._members: list[Any] = []
        self._supervisor: threading.Thread | None = None
        self._lock = threading.Lock()
        self.restarts = 0
        self.requeued_on_start: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Take back jobs whose lease expired, then start the workers and their supervisor."""
        with self._lock:
            if self._members:
                return
            report = self._store.jobs.requeue_expired()
            self.requeued_on_start = list(report.requeued) + self._reap_orphans()
            if report.requeued or report.failed:
                log.info(
                    "requeued %d job(s), failed %d, whose lease expired",
                    len(report.requeued),
                    len(report.failed),
                )
            if self.mode == "process":
                self._wake, self._stopping = self._ctx.Queue(), self._ctx.Event()
            else:
                self._wake, self._stopping = queue_mod.Queue(), threading.Event()
            self._members = [self._spawn(i) for i in range(self.workers)]
            self._supervisor = threading.Thread(
                target=self._supervise, name="soundstar-pool-supervisor", daemon=True
            )
            self._supervisor.start()
            for _ in range(self.workers):  # let every worker look for work at once
                self._wake.put(None)

    def stop(self, timeout_s: float = STOP_GRACE_S) -> None:
        """Let running jobs finish (up to `timeout_s`), then end the workers.

        A worker still busy after the grace period is terminated; its job's
        lease expires and the next start (or another worker) runs it again.
        """
        with self._lock:
            if not self._members:
                return
            self._stopping.set()
            for _ in self._members:
                self._wake.put(None)
            deadline = time.monotonic() + timeout_s
            for member in self._members:
                member.join(max(0.0, deadline - time.monotonic()))
            for member in self._members:
                if self.mode == "process" and member.is_alive():
                    log.warning("terminating pool worker %s still busy at shutdown", member.pid)
                    member.terminate()
                    member.join(5)
            self._members = []
        if self._supervisor is not None:
            self._supervisor.join(SUPERVISE_S * 2)
            self._supervisor = None
        if self.mode == "process":
            self._wake.close()
            self._wake.join_thread()

    def submit(self, job_id: str) -> None:
        """Wake one idle worker; the job itself is already in the table."""
        if self._wake is None:
            raise ConfigError("the job queue is not started")
        self._wake.put(job_id)

    def describe(self) -> dict[str, Any]:
        """Backend, pool size, live workers and job counts, for /health."""
        alive = sum(1 for m in list(self._members) if m.is_alive())
        try:
            jobs: dict[str, int] | str = self._store.jobs.status_counts()
        except Exception as exc:
            jobs = f"unavailable: {type(exc).__name__}"
        return {
            "backend": "embedded",
            "mode": self.mode,
            "workers": self.workers,
            "alive": alive,
            "restarts": self.restarts,
            "status": "ok" if self._members and alive > 0 else "unavailable",
            "jobs": jobs,
        }

    # ------------------------------------------------------------------ internals

    def _reap_orphans(self) -> list[str]:
        """Requeue now the jobs held by pool workers of this host whose process is gone
        (a server killed with its workers), rather than one lease later."""
        released = []
        for job_id, owner in self._store.jobs.held():
            pid = local_pid(owner, EMBEDDED_KIND)
            dead = pid is not None and pid != os.getpid() and not process_alive(pid)
            if dead and self._store.jobs.release(job_id, owner):
                released.append(job_id)
        if released:
            log.info("requeued %d job(s) whose pool worker is gone", len(released))
        return released

    def _spawn(self, index: int) -> Any:
        if self.mode == "process":
            process = self._ctx.Process(
                target=_process_main,
                args=(
                    os.getpid(),
                    self._store.db.url.render_as_string(hide_password=False),
                    self._settings,
                    self._factory,
                    index,
                    self._wake,
                    self._stopping,
                    self._poll_s,
                ),
                name=f"soundstar-worker-{index}",
                daemon=True,
            )
            process.start()
            return process
        thread = threading.Thread(
            target=claim_loop,
            args=(
                self._store,
                self._settings,
                self._factory(self._settings),
                worker_id("embedded-thread", index),
                self._wake,
                self._stopping,
                self._poll_s,
            ),
            name=f"soundstar-worker-{index}",
            daemon=True,
        )
        thread.start()
        return thread

    def _supervise(self) -> None:
        """Restart a pool process that died (its job is re-claimed when its lease expires)."""
        stopping = self._stopping
        while not stopping.is_set():
            time.sleep(SUPERVISE_S)
            with self._lock:
                if stopping.is_set():
                    return
                for index, member in enumerate(self._members):
                    if not member.is_alive():
                        log.warning("pool worker %d died; starting a new one", index)
                        self.restarts += 1
                        self._members[index] = self._spawn(index)

    def pids(self) -> list[int]:
        """Process ids of the pool (empty in thread mode)."""
        return [m.pid for m in self._members if self.mode == "process" and m.pid]


class CeleryQueue:
    """Sends `soundstar.jobs.run(job_id)` to the Redis broker; Celery workers run it.

    With a store, the server also relays: at start and then every lease it requeues
    expired leases and re-sends queued jobs the broker lost (`sweep_and_resend`), so
    a job accepted while Redis restarts without persistence still runs once.
    """

    def __init__(self, settings: Settings, *, store: Store | None = None) -> None:
        from soundstar.jobs.celery_app import CeleryOptions, create_app

        self._settings, self._store = settings, store
        self.options = CeleryOptions.from_settings(settings)
        self.app = create_app(settings)
        self._stopping = threading.Event()
        self._relay: threading.Thread | None = None

    def start(self) -> None:
        """Sweep once now, then keep relaying from a daemon thread (when a store is given)."""
        if self._store is None or self._relay is not None:
            return
        self._stopping.clear()
        self.sweep()
        self._relay = threading.Thread(target=self._run_relay, name="soundstar-relay", daemon=True)
        self._relay.start()

    def sweep(self) -> list[str]:
        """One relay pass; a broker or database that is down is tried again next time."""
        from soundstar.jobs.celery_app import sweep_and_resend

        if self._store is None:
            return []
        try:
            return sweep_and_resend(
                self.app,
                self._store,
                self.options.queue,
                resend_after_s=self._settings.jobs.lease_s,
            )
        except Exception as exc:
            log.warning("relaying jobs to the broker failed (%s); trying again later", exc)
            return []

    def _run_relay(self) -> None:
        while not self._stopping.wait(self._settings.jobs.lease_s):
            self.sweep()

    def stop(self) -> None:
        """Stop relaying and close the broker connections of this producer."""
        self._stopping.set()
        if self._relay is not None:
            self._relay.join(timeout=5)
            self._relay = None
        self.app.close()

    def submit(self, job_id: str) -> None:
        """Send the job's id to the queue (the job itself is already in the table);
        raises when the broker cannot be reached within a second or so."""
        from soundstar.jobs.celery_app import TASK_NAME

        self.app.send_task(TASK_NAME, args=[job_id], queue=self.options.queue)

    def describe(self) -> dict[str, Any]:
        """Backend, queue and whether the broker answers, for /health."""
        from kombu.utils.url import maybe_sanitize_url

        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
            broker = "ok"
        except Exception as exc:
            broker = f"unreachable: {type(exc).__name__}"
        info: dict[str, Any] = {
            "backend": "celery",
            "broker": maybe_sanitize_url(self.options.broker_url),
            "queue": self.options.queue,
            "broker_status": broker,
        }
        workers = self._live_workers()
        if workers is not None:
            info["workers"] = workers
        serving = broker == "ok" and workers != 0
        info["status"] = "ok" if serving else "unavailable" if broker != "ok" else "no_workers"
        if self._store is not None:
            try:
                info["jobs"] = self._store.jobs.status_counts()
            except Exception as exc:
                info["jobs"] = f"unavailable: {type(exc).__name__}"
        return info

    def _live_workers(self) -> int | None:
        """Workers whose heartbeat is younger than two leases (None: cannot tell)."""
        from soundstar.jobs.celery_app import HEARTBEAT

        if self._store is None:
            return None
        since = time.time() - 2 * self._settings.jobs.lease_s
        try:
            return self._store.counters.count_at_least(HEARTBEAT, since)
        except Exception:
            return None


def build_queue(settings: Settings, store: Store) -> JobQueue:
    """The queue `settings.jobs.backend` names: embedded pool or Celery."""
    if settings.jobs.backend == "celery":
        return CeleryQueue(settings, store=store)
    return EmbeddedQueue(store, settings)
