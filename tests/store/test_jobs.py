"""The job table as a queue: atomic claims, leases, re-queueing, results, history."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from soundstar.errors import NotFoundError, ParameterError
from soundstar.models import GenerationResult, GenerationStatus, OutputFiles
from soundstar.store import Store
from soundstar.store.schemas import FeedbackCreate
from soundstar.store.tables import GenerationJob
from soundstar.store.types import utc_now


def _job_count(store: Store) -> int:
    with store.db.session() as s:
        return s.scalar(select(func.count()).select_from(GenerationJob)) or 0


def _result(job_id: str) -> GenerationResult:
    return GenerationResult(
        id=job_id,
        status=GenerationStatus.COMPLETED,
        prompt="an upbeat 80s synthwave track",
        files=OutputFiles(audio=f"/files/{job_id}/track.wav"),
        duration_seconds=30.0,
        timings_ms={"parse": 2.0, "plan": 3.0, "compose": 40.0, "mix": 55.0, "total": 101.0},
        stages_run=["parse", "plan", "compose", "mix"],
    )


def test_job_lifecycle_enqueue_claim_progress_complete(store: Store) -> None:
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "synthwave", "duration_seconds": 30})
    queued = store.jobs.get(job_id, ann.id)
    assert queued is not None
    assert queued.status is GenerationStatus.QUEUED
    assert queued.attempts == 0
    assert queued.request == {"prompt": "synthwave", "duration_seconds": 30}

    claimed = store.jobs.claim("worker-a", lease_s=30)
    assert claimed is not None and claimed.id == job_id
    assert claimed.status is GenerationStatus.PROCESSING
    assert claimed.lease_owner == "worker-a" and claimed.attempts == 1
    assert claimed.lease_expires_at is not None
    assert claimed.lease_expires_at - utc_now() > timedelta(seconds=20)
    assert store.jobs.claim("worker-b", lease_s=30) is None

    assert store.jobs.heartbeat(job_id, "worker-a", lease_s=60) is True
    assert store.jobs.heartbeat(job_id, "worker-b", lease_s=60) is False
    assert store.jobs.progress(job_id, 0.5, "compose") is True
    mid = store.jobs.get(job_id, ann.id)
    assert mid is not None and (mid.progress, mid.stage) == (0.5, "compose")

    files = {"audio": "/data/out/track.wav", "midi": "/data/out/track.mid"}
    result = _result(job_id)
    assert store.jobs.complete(job_id, result, files, worker_id="worker-b") is False
    assert store.jobs.complete(job_id, result, files, worker_id="worker-a") is True
    done = store.jobs.get(job_id, ann.id)
    assert done is not None
    assert done.status is GenerationStatus.COMPLETED
    assert done.progress == 1.0 and done.lease_owner is None
    assert done.result == result
    assert done.files == files
    assert done.audio_url == f"/files/{job_id}/track.wav"
    assert (done.total_time_ms, done.aurora_time_ms, done.engine_time_ms) == (101, 5, 95)
    assert done.audio_duration_seconds == 30.0 and done.sample_rate == 44100
    assert done.completed_at is not None
    assert store.jobs.fail(job_id, "RENDER_FAILED", "too late") is False


def test_fail_records_the_code_and_message(store: Store) -> None:
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    store.jobs.claim("w", lease_s=30)
    assert store.jobs.fail(job_id, "RENDER_FAILED", "synth exploded", worker_id="w") is True
    failed = store.jobs.get(job_id, ann.id)
    assert failed is not None
    assert failed.status is GenerationStatus.FAILED
    assert (failed.error_code, failed.error_message) == ("RENDER_FAILED", "synth exploded")
    assert store.jobs.claim("w", lease_s=30) is None


def test_another_users_job_reads_as_none(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    assert store.jobs.get(job_id, bob.id) is None
    assert store.jobs.get(job_id, ann.id) is not None
    assert store.jobs.history(bob.id).total_count == 0


def test_concurrent_claims_never_give_one_job_to_two_workers(store: Store) -> None:
    ann = store.users.create("ann")
    n_jobs, n_workers = 24, 6
    ids = {store.jobs.enqueue(ann.id, {"n": i}) for i in range(n_jobs)}
    claims: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(n_workers)

    def work(worker: str) -> None:
        try:
            start.wait()
            while (job := store.jobs.claim(worker, lease_s=60)) is not None:
                with lock:
                    claims.append((job.id, worker))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    per_job = Counter(job_id for job_id, _ in claims)
    assert set(per_job) == ids
    assert max(per_job.values()) == 1
    for job_id, worker in claims:
        rec = store.jobs.get(job_id, ann.id)
        assert rec is not None and rec.lease_owner == worker and rec.attempts == 1


def test_expired_leases_are_requeued_counted_and_finally_failed(db: object) -> None:
    from soundstar.store import Database

    assert isinstance(db, Database)
    store = Store(db, max_job_attempts=2)
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    first = store.jobs.claim("dies-1", lease_s=30)
    assert first is not None and first.attempts == 1

    assert store.jobs.requeue_expired(utc_now()).requeued == []
    report = store.jobs.requeue_expired(utc_now() + timedelta(seconds=31))
    assert report.requeued == [job_id] and report.failed == []
    back = store.jobs.get(job_id, ann.id)
    assert back is not None
    assert back.status is GenerationStatus.QUEUED and back.lease_owner is None
    assert back.attempts == 1
    assert store.jobs.heartbeat(job_id, "dies-1", lease_s=30) is False
    assert store.jobs.complete(job_id, _result(job_id), {}, worker_id="dies-1") is False

    second = store.jobs.claim("dies-2", lease_s=30)
    assert second is not None and second.id == job_id and second.attempts == 2
    report = store.jobs.requeue_expired(utc_now() + timedelta(seconds=31))
    assert report.failed == [job_id] and report.requeued == []
    dead = store.jobs.get(job_id, ann.id)
    assert dead is not None
    assert dead.status is GenerationStatus.FAILED
    assert dead.error_code and "2 attempt" in (dead.error_message or "")
    assert store.jobs.claim("w", lease_s=30) is None


def test_claim_takes_over_an_expired_lease_directly(store: Store) -> None:
    ann = store.users.create("ann")
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    store.jobs.claim("dies", lease_s=0.001)
    threading.Event().wait(0.01)
    again = store.jobs.claim("lives", lease_s=30)
    assert again is not None and again.id == job_id
    assert again.lease_owner == "lives" and again.attempts == 2


def test_bad_job_input_is_refused_and_changes_nothing(store: Store) -> None:
    ann = store.users.create("ann")
    with pytest.raises(ParameterError, match="JSON-serializable"):
        store.jobs.enqueue(ann.id, {"when": object()})
    with pytest.raises(ParameterError, match="JSON-serializable"):
        store.jobs.enqueue(ann.id, {"gain": float("nan")})
    with pytest.raises(NotFoundError):
        store.jobs.enqueue(ann.id + 99, {"prompt": "x"})
    with pytest.raises(NotFoundError):
        store.jobs.enqueue(ann.id, {"prompt": "x"}, session_id="not-a-session")
    assert _job_count(store) == 0
    job_id = store.jobs.enqueue(ann.id, {"prompt": "x"})
    store.jobs.claim("w", lease_s=30)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ParameterError, match="progress"):
            store.jobs.progress(job_id, bad, "mix")
    with pytest.raises(ParameterError, match="lease_s"):
        store.jobs.claim("w", lease_s=0)
    rec = store.jobs.get(job_id, ann.id)
    assert rec is not None and rec.progress == 0.0 and rec.stage is None


def test_history_pages_sorts_and_counts(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    ids = [store.jobs.enqueue(ann.id, {"n": i}) for i in range(25)]
    store.jobs.enqueue(bob.id, {"n": -1})

    default = store.jobs.history(ann.id)
    assert default.total_count == 25
    assert [i.id for i in default.items] == ids[::-1][:20]
    oldest = store.jobs.history(ann.id, limit=10, offset=20, sort="oldest")
    assert [i.id for i in oldest.items] == ids[20:]
    assert store.jobs.history(ann.id, limit=100, offset=25).items == []
    assert len(store.jobs.history(ann.id, limit=1).items) == 1

    store.feedback.create(ann.id, FeedbackCreate(result_id=ids[-1], feedback_type="negative"))
    store.feedback.create(ann.id, FeedbackCreate(result_id=ids[-1], feedback_type="positive"))
    top = store.jobs.history(ann.id, limit=2).items
    assert [(i.id, i.user_feedback) for i in top] == [(ids[-1], "positive"), (ids[-2], None)]


def test_history_rejects_out_of_bounds_parameters(store: Store) -> None:
    ann = store.users.create("ann")
    cases: list[tuple[dict[str, object], str]] = [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"sort": "random"}, "sort"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ParameterError, match=field) as info:
            store.jobs.history(ann.id, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
