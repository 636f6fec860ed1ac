"""The job table as an outbox: queued jobs whose message may be lost are found again,
a job a broker refused is withdrawn, a dead worker's job is released at once."""

from __future__ import annotations

from datetime import timedelta

from soundstar.store import Store
from soundstar.store.types import utc_now


def test_undelivered_finds_stale_queued_jobs_once_per_interval(store: Store) -> None:
    ann = store.users.create("ann")
    old = store.jobs.enqueue(ann.id, {"prompt": "a"})
    later = utc_now() + timedelta(seconds=30)
    assert store.jobs.undelivered(60, now=later) == []
    assert store.jobs.undelivered(10, now=later) == [old]
    assert store.jobs.undelivered(10, now=later + timedelta(seconds=5)) == []
    assert store.jobs.undelivered(10, now=later + timedelta(seconds=11)) == [old]


def test_processing_and_finished_jobs_are_never_undelivered(store: Store) -> None:
    ann = store.users.create("ann")
    store.jobs.enqueue(ann.id, {"prompt": "a"})
    assert store.jobs.claim("w1", 60) is not None
    assert store.jobs.undelivered(0, now=utc_now() + timedelta(seconds=30)) == []


def test_withdraw_removes_only_a_job_that_never_started(store: Store) -> None:
    ann = store.users.create("ann")
    waiting = store.jobs.enqueue(ann.id, {"prompt": "a"})
    started = store.jobs.enqueue(ann.id, {"prompt": "b"})
    assert store.jobs.claim_job(started, "w1", 60) is not None
    assert store.jobs.withdraw(waiting) and store.jobs.lookup(waiting) is None
    assert not store.jobs.withdraw(started) and store.jobs.lookup(started) is not None


def test_release_requeues_a_dead_owners_job_keeping_its_attempt(store: Store) -> None:
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "a"})
    assert store.jobs.claim_job(job_id, "dead@host:1", 600) is not None
    assert store.jobs.held() == [(job_id, "dead@host:1")]
    assert not store.jobs.release(job_id, "someone-else")
    assert store.jobs.release(job_id, "dead@host:1")
    job = store.jobs.lookup(job_id)
    assert job is not None and job.status == "queued" and job.attempts == 1
    assert job.lease_owner is None and store.jobs.held() == []


def test_history_holds_enhance_only_sessions_beside_generations(store: Store) -> None:
    from soundstar.store.schemas import EnhancementItem, HistoryItem, SessionCreate

    ann = store.users.create("ann")
    enhanced = store.sessions.create(
        ann.id, SessionCreate(original_prompt="jazz", enhanced_prompt="smoky late-night jazz")
    ).id
    generated_from = store.sessions.create(
        ann.id, SessionCreate(original_prompt="rock", enhanced_prompt="driving rock")
    ).id
    store.jobs.enqueue(ann.id, {"prompt": "rock"}, session_id=generated_from)
    store.sessions.create(ann.id, SessionCreate(original_prompt="parsed only"))
    page = store.jobs.history(ann.id)
    assert page.total_count == 2
    kinds = {type(item): item for item in page.items}
    assert set(kinds) == {HistoryItem, EnhancementItem}
    assert kinds[EnhancementItem].id == enhanced
    assert kinds[EnhancementItem].enhanced_prompt == "smoky late-night jazz"
    assert store.jobs.history(ann.id, sort="oldest").items[0].id == enhanced
