"""The generation job queue over `generation_results` (DESIGN.md "Jobs").

A job is queued, claimed by one worker under a lease, kept alive by heartbeats,
and ends completed or failed. A worker that dies leaves an expired lease;
`requeue_expired` puts such jobs back (or fails them after `max_attempts`
claims), so nothing stays in `processing` for ever. Claims are atomic:
`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional UPDATE with a rowcount
check on SQLite (whose writers are serialized by the database lock).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from soundstar.errors import NotFoundError, ParameterError, RenderError
from soundstar.models import GenerationResult, stage_milliseconds
from soundstar.store._common import new_id, owned_session, rejecting_bad_rows
from soundstar.store.database import Database
from soundstar.store.schemas import (
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    EnhancementItem,
    FinishedJob,
    HistoryItem,
    HistoryPage,
    HistorySort,
    JobRecord,
    RequeueReport,
)
from soundstar.store.tables import AuroraSession, Feedback, GenerationJob, User
from soundstar.store.types import utc_now

DEFAULT_MAX_ATTEMPTS = 3
LEASE_LOST_CODE = RenderError.code
_CLAIM_RETRIES = 8
_GENERATION = "generation"
_ENHANCEMENT = "enhancement"


def _job_dict(row: GenerationJob) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "session_id": row.session_id,
        "status": row.status,
        "stage": row.stage,
        "progress": row.progress,
        "request": row.request,
        "result": row.result,
        "files": row.files,
        "error_code": row.error_code,
        "error_message": row.error_message,
        "attempts": row.attempts,
        "lease_owner": row.lease_owner,
        "lease_expires_at": row.lease_expires_at,
        "heartbeat_at": row.heartbeat_at,
        "audio_url": row.audio_url,
        "audio_duration_seconds": row.audio_duration_seconds,
        "sample_rate": row.sample_rate,
        "output_format": row.output_format,
        "total_time_ms": row.total_time_ms,
        "aurora_time_ms": row.aurora_time_ms,
        "engine_time_ms": row.engine_time_ms,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "completed_at": row.completed_at,
    }


def _record(row: GenerationJob) -> JobRecord:
    return JobRecord.model_validate(_job_dict(row))


def _json_object(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    try:
        decoded = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what} must be JSON-serializable: {exc}", field=what) from exc
    if not isinstance(decoded, dict):
        raise ParameterError(f"{what} must be a JSON object", field=what)
    return decoded


def _check_lease(lease_s: float) -> timedelta:
    if not math.isfinite(lease_s) or lease_s <= 0:
        raise ParameterError(f"lease_s must be a positive number of seconds, got {lease_s}")
    return timedelta(seconds=lease_s)


def _split_timings(timings_ms: Mapping[str, float]) -> tuple[int | None, int | None, int | None]:
    """(total, aurora, engine) whole milliseconds from a result's per-stage timings."""
    if not timings_ms:
        return None, None, None
    total, aurora, engine = stage_milliseconds(dict(timings_ms))
    return round(total), round(aurora), round(engine)


class JobRepository:
    def __init__(self, db: Database, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        if max_attempts < 1:
            raise ParameterError("max_attempts must be at least 1")
        self._db = db
        self.max_attempts = max_attempts

    # ------------------------------------------------------------------ producer side

    def enqueue(
        self, user_id: int, request_json: Mapping[str, Any], *, session_id: str | None = None
    ) -> str:
        """Queue a generation for `user_id`; returns the job id (also the result id)."""
        request = _json_object(request_json, "request")
        with self._db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            if session_id is not None and owned_session(s, session_id, user_id) is None:
                raise NotFoundError(f"no session {session_id} for this user")
            job_id = new_id()
            with rejecting_bad_rows("generation job"):
                s.add(
                    GenerationJob(
                        id=job_id,
                        user_id=user_id,
                        session_id=session_id,
                        status="queued",
                        progress=0.0,
                        attempts=0,
                        request=request,
                    )
                )
                s.flush()
            return job_id

    def withdraw(self, job_id: str, *, with_session: bool = False) -> bool:
        """Remove a job that was never handed to a queue (its broker refused it), and
        with `with_session` the session opened for it, so a refused generation leaves
        no row behind; False if the job had already started."""
        with self._db.session() as s:
            session_id = s.scalar(
                select(GenerationJob.session_id).where(GenerationJob.id == job_id)
            )
            result = s.connection().execute(
                delete(GenerationJob).where(
                    GenerationJob.id == job_id, GenerationJob.status == "queued"
                )
            )
            if result.rowcount != 1:
                return False
            if with_session and session_id is not None:
                s.connection().execute(
                    delete(AuroraSession).where(
                        AuroraSession.id == session_id,
                        ~exists().where(GenerationJob.session_id == session_id),
                    )
                )
            return True

    # ------------------------------------------------------------------ worker side

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        return or_(
            GenerationJob.status == "queued",
            and_(
                GenerationJob.status == "processing",
                or_(GenerationJob.lease_expires_at.is_(None), GenerationJob.lease_expires_at < now),
                GenerationJob.attempts < self.max_attempts,
            ),
        )

    def claim(self, worker_id: str, lease_s: float) -> JobRecord | None:
        """Take the oldest claimable job under a lease for `worker_id`, or None if none.

        Claimable: queued, or processing with an expired lease and attempts left.
        Each successful claim counts one attempt.
        """
        if not worker_id or len(worker_id) > 128:
            raise ParameterError("worker_id must be 1–128 characters", field="worker_id")
        lease = _check_lease(lease_s)
        postgres = self._db.dialect == "postgresql"
        for _ in range(_CLAIM_RETRIES):
            with self._db.session() as s:
                now = utc_now()
                pick = (
                    select(GenerationJob.id)
                    .where(self._claimable(now))
                    .order_by(GenerationJob.created_at, GenerationJob.id)
                    .limit(1)
                )
                if postgres:
                    pick = pick.with_for_update(skip_locked=True)
                job_id = s.scalar(pick)
                if job_id is None:
                    return None
                claimed = s.connection().execute(
                    update(GenerationJob)
                    .where(GenerationJob.id == job_id, self._claimable(now))
                    .values(
                        status="processing",
                        lease_owner=worker_id,
                        lease_expires_at=now + lease,
                        heartbeat_at=now,
                        attempts=GenerationJob.attempts + 1,
                        progress=0.0,
                        stage=None,
                        updated_at=now,
                    )
                )
                if claimed.rowcount == 1:
                    row = s.get(GenerationJob, job_id, populate_existing=True)
                    if row is None:
                        raise RuntimeError(f"claimed job {job_id} vanished")
                    return _record(row)
        return None

    def claim_job(self, job_id: str, worker_id: str, lease_s: float) -> JobRecord | None:
        """Take one specific job under a lease for `worker_id` (dispatch by id, as Celery
        does), or None when it is not claimable: missing, finished, held under a live
        lease, or out of attempts. A successful claim counts one attempt."""
        if not worker_id or len(worker_id) > 128:
            raise ParameterError("worker_id must be 1–128 characters", field="worker_id")
        lease = _check_lease(lease_s)
        with self._db.session() as s:
            now = utc_now()
            pick = select(GenerationJob.id).where(GenerationJob.id == job_id, self._claimable(now))
            if self._db.dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            if s.scalar(pick) is None:
                return None
            claimed = s.connection().execute(
                update(GenerationJob)
                .where(GenerationJob.id == job_id, self._claimable(now))
                .values(
                    status="processing",
                    lease_owner=worker_id,
                    lease_expires_at=now + lease,
                    heartbeat_at=now,
                    attempts=GenerationJob.attempts + 1,
                    progress=0.0,
                    stage=None,
                    updated_at=now,
                )
            )
            if claimed.rowcount != 1:
                return None
            row = s.get(GenerationJob, job_id, populate_existing=True)
            return _record(row) if row else None

    def lookup(self, job_id: str) -> JobRecord | None:
        """The job whoever owns it (for workers and sweepers, never for serving a user)."""
        with self._db.session() as s:
            row = s.get(GenerationJob, job_id)
            return _record(row) if row else None

    def status_counts(self) -> dict[str, int]:
        """How many jobs are in each status (for /health and metrics)."""
        with self._db.session() as s:
            rows = s.execute(
                select(GenerationJob.status, func.count()).group_by(GenerationJob.status)
            ).all()
            return {str(status): int(count) for status, count in rows}

    def _owned_update(
        self, job_id: str, worker_id: str | None, statuses: tuple[str, ...], **values: Any
    ) -> bool:
        conditions = [GenerationJob.id == job_id, GenerationJob.status.in_(statuses)]
        if worker_id is not None:
            conditions.append(GenerationJob.lease_owner == worker_id)
        with self._db.session() as s:
            result = s.connection().execute(
                update(GenerationJob).where(*conditions).values(updated_at=utc_now(), **values)
            )
            return result.rowcount == 1

    def heartbeat(self, job_id: str, worker_id: str, lease_s: float) -> bool:
        """Extend the lease; False means the job is no longer this worker's: stop working on it."""
        lease = _check_lease(lease_s)
        now = utc_now()
        return self._owned_update(
            job_id, worker_id, ("processing",), lease_expires_at=now + lease, heartbeat_at=now
        )

    def progress(
        self, job_id: str, fraction: float, stage: str, *, worker_id: str | None = None
    ) -> bool:
        """Record how far a processing job is (0–1) and in which stage."""
        if not math.isfinite(fraction) or not 0.0 <= fraction <= 1.0:
            raise ParameterError(f"progress must be in [0, 1], got {fraction}", field="progress")
        if len(stage) > 64:
            raise ParameterError("stage name must be at most 64 characters", field="stage")
        return self._owned_update(
            job_id, worker_id, ("processing",), progress=fraction, stage=stage
        )

    def complete(
        self,
        job_id: str,
        result_json: GenerationResult,
        files: Mapping[str, Any],
        *,
        worker_id: str | None = None,
    ) -> bool:
        """Store the result of a processing job and mark it completed."""
        stored_files = _json_object(files, "files")
        total, aurora, engine = _split_timings(result_json.timings_ms)
        now = utc_now()
        return self._owned_update(
            job_id,
            worker_id,
            ("processing",),
            status="completed",
            progress=1.0,
            stage="done",
            result=result_json.model_dump(mode="json", by_alias=True),
            files=stored_files,
            audio_url=result_json.files.audio,
            audio_duration_seconds=result_json.duration_seconds,
            sample_rate=result_json.sample_rate,
            output_format=result_json.output_format,
            total_time_ms=total,
            aurora_time_ms=aurora,
            engine_time_ms=engine,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=now,
            error_code=None,
            error_message=None,
        )

    def fail(self, job_id: str, code: str, message: str, *, worker_id: str | None = None) -> bool:
        """Mark a queued or processing job failed with an error code and message."""
        if not code or len(code) > 64:
            raise ParameterError("error code must be 1–64 characters", field="code")
        return self._owned_update(
            job_id,
            worker_id,
            ("queued", "processing"),
            status="failed",
            error_code=code,
            error_message=message,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=utc_now(),
        )

    def undelivered(self, older_than_s: float, now: datetime | None = None) -> list[str]:
        """Queued jobs untouched for `older_than_s` (their message may be lost with the
        broker), oldest first; each is marked as dispatched now, so the next sweep
        waits another `older_than_s` before sending it again."""
        now = now or utc_now()
        stale = and_(
            GenerationJob.status == "queued",
            GenerationJob.updated_at < now - timedelta(seconds=older_than_s),
        )
        picked: list[str] = []
        with self._db.session() as s:
            pick = (
                select(GenerationJob.id)
                .where(stale)
                .order_by(GenerationJob.created_at, GenerationJob.id)
            )
            if self._db.dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            for job_id in s.scalars(pick).all():
                touched = s.connection().execute(
                    update(GenerationJob)
                    .where(GenerationJob.id == job_id, stale)
                    .values(updated_at=now)
                )
                if touched.rowcount == 1:
                    picked.append(job_id)
        return picked

    def held(self) -> list[tuple[str, str]]:
        """(job id, lease owner) of every processing job, for reaping dead owners."""
        with self._db.session() as s:
            rows = s.execute(
                select(GenerationJob.id, GenerationJob.lease_owner).where(
                    GenerationJob.status == "processing", GenerationJob.lease_owner.is_not(None)
                )
            ).all()
            return [(job_id, str(owner)) for job_id, owner in rows]

    def release(self, job_id: str, worker_id: str) -> bool:
        """Put a job held by `worker_id`, known to be dead, back in the queue at once
        (its attempt stays counted) instead of waiting for its lease to run out."""
        return self._owned_update(
            job_id,
            worker_id,
            ("processing",),
            status="queued",
            progress=0.0,
            stage=None,
            lease_owner=None,
            lease_expires_at=None,
        )

    def requeue_expired(self, now: datetime | None = None) -> RequeueReport:
        """Put processing jobs whose lease ran out back in the queue, or fail them when
        they have had `max_attempts` claims already."""
        now = now or utc_now()
        expired = and_(
            GenerationJob.status == "processing",
            or_(GenerationJob.lease_expires_at.is_(None), GenerationJob.lease_expires_at < now),
        )
        report = RequeueReport()
        with self._db.session() as s:
            pick = select(
                GenerationJob.id, GenerationJob.attempts, GenerationJob.lease_owner
            ).where(expired)
            if self._db.dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            for job_id, attempts, owner in s.execute(pick).all():
                if attempts >= self.max_attempts:
                    values: dict[str, Any] = {
                        "status": "failed",
                        "error_code": LEASE_LOST_CODE,
                        "error_message": (
                            f"worker {owner or 'unknown'} stopped reporting; gave up after "
                            f"{attempts} attempt(s)"
                        ),
                        "completed_at": now,
                    }
                else:
                    values = {"status": "queued", "progress": 0.0, "stage": None}
                changed = s.connection().execute(
                    update(GenerationJob)
                    .where(GenerationJob.id == job_id, expired)
                    .values(lease_owner=None, lease_expires_at=None, updated_at=now, **values)
                )
                if changed.rowcount == 1:
                    (report.failed if values["status"] == "failed" else report.requeued).append(
                        job_id
                    )
        return report

    # ------------------------------------------------------------------ reading

    def finished_since(
        self, after: datetime, after_id: str = "", limit: int = 1000
    ) -> list[FinishedJob]:
        """Jobs that ended after (`after`, `after_id`), in that order: every process's
        results, for /metrics to count once each whoever ran them."""
        later = or_(
            GenerationJob.completed_at > after,
            and_(GenerationJob.completed_at == after, GenerationJob.id > after_id),
        )
        with self._db.session() as s:
            rows = s.execute(
                select(
                    GenerationJob.id,
                    GenerationJob.status,
                    GenerationJob.error_code,
                    GenerationJob.completed_at,
                    GenerationJob.result,
                )
                .where(GenerationJob.status.in_(("completed", "failed")), later)
                .order_by(GenerationJob.completed_at, GenerationJob.id)
                .limit(limit)
            ).all()
        finished = []
        for job_id, status, code, completed_at, result in rows:
            timings = (result or {}).get("timings_ms") or {}
            finished.append(
                FinishedJob(
                    id=job_id,
                    status=status,
                    error_code=code,
                    completed_at=completed_at,
                    timings_ms={
                        str(k): float(v) for k, v in timings.items() if isinstance(v, int | float)
                    },
                )
            )
        return finished

    def get(self, job_id: str, user_id: int) -> JobRecord | None:
        """The job if it exists and belongs to `user_id`; another user's id gives None."""
        with self._db.session() as s:
            row = s.scalar(
                select(GenerationJob).where(
                    GenerationJob.id == job_id, GenerationJob.user_id == user_id
                )
            )
            return _record(row) if row else None

    def completed(self, user_id: int, limit: int = 200) -> list[JobRecord]:
        """The user's latest `limit` completed generations, newest first."""
        with self._db.session() as s:
            rows = s.scalars(
                select(GenerationJob)
                .where(GenerationJob.user_id == user_id, GenerationJob.status == "completed")
                .order_by(GenerationJob.created_at.desc(), GenerationJob.id.desc())
                .limit(limit)
            ).all()
            return [_record(r) for r in rows]

    def history(
        self,
        user_id: int,
        limit: int = HISTORY_LIMIT_DEFAULT,
        offset: int = 0,
        sort: HistorySort = "newest",
    ) -> HistoryPage:
        """One page of the user's history (spec v1 §3.2.5: limit 1–100, default 20;
        offset ≥ 0; sort newest|oldest) with the total count: generations, and sessions
        whose prompt was enhanced but never generated."""
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= HISTORY_LIMIT_MAX
        ):
            raise ParameterError(
                f"limit must be an integer from 1 to {HISTORY_LIMIT_MAX}, got {limit!r}",
                field="limit",
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ParameterError(f"offset must be an integer ≥ 0, got {offset!r}", field="offset")
        if sort not in ("newest", "oldest"):
            raise ParameterError(f"sort must be 'newest' or 'oldest', got {sort!r}", field="sort")
        entries = union_all(
            select(
                GenerationJob.id.label("id"),
                GenerationJob.created_at.label("created_at"),
                literal(_GENERATION).label("kind"),
            ).where(GenerationJob.user_id == user_id),
            select(
                AuroraSession.id.label("id"),
                AuroraSession.created_at.label("created_at"),
                literal(_ENHANCEMENT).label("kind"),
            ).where(
                AuroraSession.user_id == user_id,
                AuroraSession.enhanced_prompt.is_not(None),
                ~exists().where(GenerationJob.session_id == AuroraSession.id),
            ),
        ).subquery()
        order = (
            (entries.c.created_at.desc(), entries.c.id.desc())
            if sort == "newest"
            else (entries.c.created_at.asc(), entries.c.id.asc())
        )
        with self._db.session() as s:
            total = s.scalar(select(func.count()).select_from(entries))
            page = s.execute(
                select(entries.c.id, entries.c.kind).order_by(*order).limit(limit).offset(offset)
            ).all()
            job_ids = [i for i, kind in page if kind == _GENERATION]
            session_ids = [i for i, kind in page if kind == _ENHANCEMENT]
            jobs = {
                r.id: r
                for r in s.scalars(select(GenerationJob).where(GenerationJob.id.in_(job_ids)))
            }
            sessions = {
                r.id: r
                for r in s.scalars(select(AuroraSession).where(AuroraSession.id.in_(session_ids)))
            }
            latest = self._latest_feedback(s, user_id, job_ids)
            on_sessions = self._latest_session_feedback(s, user_id, session_ids)
            items: list[HistoryItem | EnhancementItem] = []
            for entry_id, kind in page:
                if kind == _GENERATION:
                    row = jobs[entry_id]
                    items.append(
                        HistoryItem.model_validate(
                            {**_job_dict(row), "user_feedback": latest.get(row.id)}
                        )
                    )
                else:
                    session = sessions[entry_id]
                    items.append(
                        EnhancementItem(
                            id=session.id,
                            original_prompt=session.original_prompt,
                            enhanced_prompt=session.enhanced_prompt,
                            created_at=session.created_at,
                            user_feedback=on_sessions.get(session.id),
                        )
                    )
            return HistoryPage(total_count=total or 0, items=items)

    @staticmethod
    def _latest_session_feedback(
        s: Session, user_id: int, session_ids: list[str]
    ) -> dict[str, str]:
        if not session_ids:
            return {}
        rows = s.execute(
            select(Feedback.session_id, Feedback.feedback_type)
            .where(
                Feedback.user_id == user_id,
                Feedback.session_id.in_(session_ids),
                Feedback.result_id.is_(None),
            )
            .order_by(Feedback.created_at, Feedback.id)
        ).all()
        return {sid: kind for sid, kind in rows if sid is not None}

    @staticmethod
    def _latest_feedback(s: Session, user_id: int, job_ids: list[str]) -> dict[str, str]:
        if not job_ids:
            return {}
        rows = s.execute(
            select(Feedback.result_id, Feedback.feedback_type)
            .where(Feedback.user_id == user_id, Feedback.result_id.in_(job_ids))
            .order_by(Feedback.created_at, Feedback.id)
        ).all()
        return {result_id: kind for result_id, kind in rows if result_id is not None}
