"""Claiming one job by id (Celery's dispatch), `lookup` and `status_counts`."""

from __future__ import annotations

import time

import pytest

from soundstar.errors import ParameterError
from soundstar.models import GenerationStatus
from soundstar.store import Database, Store


def test_claim_job_takes_that_job_not_the_oldest(store: Store) -> None:
    ann = store.users.create("ann")
    older = store.jobs.enqueue(ann.id, {"prompt": "first"})
    newer = store.jobs.enqueue(ann.id, {"prompt": "second"})
    job = store.jobs.claim_job(newer, "w1", lease_s=30)
    assert job is not None and job.id == newer
    assert job.status is GenerationStatus.PROCESSING
    assert (job.lease_owner, job.attempts) == ("w1", 1)
    queued = store.jobs.lookup(older)
    assert queued is not None and queued.status is GenerationStatus.QUEUED


def test_claim_job_refuses_live_lease_finished_and_missing(store: Store) -> None:
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    assert store.jobs.claim_job(job_id, "w1", lease_s=30) is not None
    assert store.jobs.claim_job(job_id, "w2", lease_s=30) is None  # live lease
    assert store.jobs.fail(job_id, "RENDER_FAILED", "no", worker_id="w1")
    assert store.jobs.claim_job(job_id, "w2", lease_s=30) is None  # finished
    assert store.jobs.claim_job("no-such-job", "w2", lease_s=30) is None
    with pytest.raises(ParameterError):
        store.jobs.claim_job(job_id, "", lease_s=30)
    with pytest.raises(ParameterError):
        store.jobs.claim_job(job_id, "w2", lease_s=0)


def test_claim_job_takes_over_an_expired_lease_until_attempts_run_out(db: Database) -> None:
    store = Store(db, max_job_attempts=2)
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    assert store.jobs.claim_job(job_id, "dead", lease_s=0.01) is not None
    time.sleep(0.05)
    second = store.jobs.claim_job(job_id, "alive", lease_s=0.01)
    assert second is not None and (second.lease_owner, second.attempts) == ("alive", 2)
    time.sleep(0.05)
    assert store.jobs.claim_job(job_id, "third", lease_s=30) is None  # out of attempts


def test_lookup_and_status_counts(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    a = store.jobs.enqueue(ann.id, {"prompt": "a"})
    store.jobs.enqueue(bob.id, {"prompt": "b"})
    assert store.jobs.claim_job(a, "w", lease_s=30) is not None
    found = store.jobs.lookup(a)
    assert found is not None and found.user_id == ann.id
    assert store.jobs.lookup("missing") is None
    assert store.jobs.status_counts() == {"processing": 1, "queued": 1}
