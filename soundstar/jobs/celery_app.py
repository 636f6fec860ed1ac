"""Celery workers on a Redis broker, dispatching generation jobs by id (DESIGN.md "Jobs").

Delivery is at-least-once: tasks are acknowledged late and rejected back to
the queue when their worker process dies (`task_acks_late`,
`task_reject_on_worker_lost`), each worker takes one message at a time
(`worker_prefetch_multiplier=1`), and a message whose whole worker vanished
comes back after the broker's visibility timeout (about twice the longest
render). Duplicates are harmless: the task claims its job by id under a lease
(`claim_job`), does nothing for a finished job, and waits while another live
worker holds the lease. Results live in the database, never in a Celery
backend. Each worker sweeps expired leases (at start, then every lease) and re-sends those jobs.

`celery -A soundstar.jobs.celery_app worker` and `soundstar worker` both use
this module. Two settings outside `Settings` (read from the environment):
SOUNDSTAR_CELERY_QUEUE (queue name, also the Redis key prefix, default
`soundstar.jobs`) and SOUNDSTAR_CELERY_VISIBILITY_TIMEOUT_S.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from celery import Celery, Task
from celery.signals import worker_ready
from kombu.exceptions import ChannelError

from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings, get_settings
from soundstar.errors import ConfigError
from soundstar.jobs.request import execute
from soundstar.jobs.runtime import (
    default_aurora_factory,
    open_store,
    record_cache_counters,
    worker_id,
)
from soundstar.models import GenerationStatus
from soundstar.store.repository import Store
from soundstar.store.types import utc_now

log = logging.getLogger(__name__)

TASK_NAME = "soundstar.jobs.run"
DEFAULT_QUEUE = "soundstar.jobs"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
LONGEST_RENDER_S = 300.0
QUEUE_ENV = "SOUNDSTAR_CELERY_QUEUE"
VISIBILITY_ENV = "SOUNDSTAR_CELERY_VISIBILITY_TIMEOUT_S"
MIN_RETRY_S = 0.5
PUBLISH_TIMEOUT_S = 1.0
HEARTBEAT = "celery_worker_alive_at"


@dataclass(frozen=True)
class CeleryOptions:
    """Broker, queue and visibility timeout for one deployment."""

    broker_url: str
    queue: str
    visibility_timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> CeleryOptions:
        raw = os.environ.get(VISIBILITY_ENV, "")
        try:
            visibility = float(raw) if raw else 2 * LONGEST_RENDER_S
        except ValueError:
            raise ConfigError(
                f"{VISIBILITY_ENV} must be a number of seconds, got {raw!r}"
            ) from None
        if visibility <= 0:
            raise ConfigError(f"{VISIBILITY_ENV} must be positive, got {raw!r}")
        return cls(
            broker_url=settings.jobs.broker_url or settings.redis_url or DEFAULT_BROKER,
            queue=os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE,
            visibility_timeout_s=visibility,
        )


# ---------------------------------------------------------------------- per-process state

_CONTEXT: dict[int, tuple[Store, Aurora]] = {}


def _context(settings: Settings) -> tuple[Store, Aurora]:
    """This process's store and Aurora, built after fork (never shared across processes)."""
    pid = os.getpid()
    if pid not in _CONTEXT:
        _CONTEXT[pid] = (open_store(settings), default_aurora_factory(settings))
    return _CONTEXT[pid]


def run_job(task: Task, settings: Settings, job_id: str) -> str:
    """The task body: claim job `job_id` by id and run it; returns what happened."""
    store, aurora = _context(settings)
    owner = worker_id("celery")
    job = store.jobs.claim_job(job_id, owner, settings.jobs.lease_s)
    if job is not None:
        execute(store, settings, job, owner, aurora)
        record_cache_counters(store, owner, aurora)
        return "ran"
    current = store.jobs.lookup(job_id)
    if current is None:
        log.warning("job %s does not exist; dropping its message", job_id)
        return "missing"
    if current.status in (GenerationStatus.COMPLETED, GenerationStatus.FAILED):
        return "finished"
    expires = current.lease_expires_at
    if current.status is GenerationStatus.PROCESSING and expires is not None:
        remaining = (expires - utc_now()).total_seconds()
        if remaining <= 0:  # expired and out of attempts: the sweep fails it
            store.jobs.requeue_expired()
            return "swept"
        raise task.retry(countdown=max(MIN_RETRY_S, remaining + MIN_RETRY_S), max_retries=None)
    raise task.retry(countdown=MIN_RETRY_S, max_retries=None)


def broker_backlog(app: Celery, queue: str) -> int:
    """How many messages wait in the broker's queue (0 when the queue does not exist)."""
    with app.connection_for_write() as conn:
        try:
            declared = conn.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:  # Redis drops an empty list: no queue is an empty queue
            return 0
        return int(declared.message_count)


def sweep_and_resend(
    app: Celery, store: Store, queue: str, *, resend_after_s: float | None = None
) -> list[str]:
    """Requeue jobs whose lease expired and send a task for each; with `resend_after_s`,
    also re-send queued jobs older than that whose message the broker lost (it holds
    fewer messages than the table holds queued jobs: Redis restarted without its data,
    or a send failed). The job table is the outbox: a queued row is sent until run.
    Returns the ids sent."""
    report = store.jobs.requeue_expired()
    sent = list(report.requeued)
    if resend_after_s is not None:
        queued = store.jobs.status_counts().get("queued", 0)
        if queued > len(sent) + broker_backlog(app, queue):
            sent += [j for j in store.jobs.undelivered(resend_after_s) if j not in sent]
    for job_id in sent:
        app.send_task(TASK_NAME, args=[job_id], queue=queue)
    if sent or report.failed:
        log.info("swept %d job(s) back to the broker, failed %d", len(sent), len(report.failed))
    return sent


def create_app(settings: Settings) -> Celery:
    """A Celery app for `settings` with the at-least-once configuration and the run task."""
    options = CeleryOptions.from_settings(settings)
    app = Celery("soundstar", broker=options.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=options.queue,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=PUBLISH_TIMEOUT_S,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0.0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        worker_hijack_root_logger=False,
        broker_transport_options={
            "visibility_timeout": options.visibility_timeout_s,
            "socket_connect_timeout": PUBLISH_TIMEOUT_S,
            "global_keyprefix": f"{options.queue}:",
        },
    )

    @app.task(name=TASK_NAME, bind=True, max_retries=None, shared=False)  # type: ignore[untyped-decorator]
    def run(self: Task, job_id: str) -> str:
        return run_job(self, settings, job_id)

    app.conf.soundstar_settings = settings
    app.conf.soundstar_queue = options.queue
    return app


def _sweeper(celery_app: Celery, settings: Settings) -> None:
    """Sweep now and then every `lease_s`: a job whose whole worker died comes back
    within about one lease, without waiting for the broker's visibility timeout. Each
    pass also records the worker's heartbeat, which /health counts."""
    store = open_store(settings)
    me = worker_id("celery")
    try:
        while True:
            try:
                store.counters.record(me, {HEARTBEAT: time.time()})
            except Exception as exc:
                log.warning("worker heartbeat failed (%s)", exc)
            try:
                sweep_and_resend(
                    celery_app,
                    store,
                    celery_app.conf.soundstar_queue,
                    resend_after_s=settings.jobs.lease_s,
                )
            except Exception as exc:
                log.warning("sweeping jobs failed (%s); trying again in one lease", exc)
            time.sleep(settings.jobs.lease_s)
    finally:
        store.db.dispose()


@worker_ready.connect  # type: ignore[untyped-decorator]
def _sweep_on_start(sender: Any = None, **_: Any) -> None:
    """When a worker is up, start its sweeper (a daemon thread in the main process)."""
    celery_app = getattr(sender, "app", None)
    settings = getattr(getattr(celery_app, "conf", None), "soundstar_settings", None)
    if celery_app is None or settings is None:
        return
    threading.Thread(
        target=_sweeper, args=(celery_app, settings), name="soundstar-sweeper", daemon=True
    ).start()


def run_worker(settings: Settings, concurrency: int, loglevel: str = "info") -> None:
    """Run a Celery worker (prefork, `concurrency` processes) until it is stopped."""
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
    worker_app = create_app(settings)
    worker_app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--pool=prefork",
            f"--queues={worker_app.conf.soundstar_queue}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


app = create_app(get_settings())
