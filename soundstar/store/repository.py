"""`Store`: every repository over one database, the one object the service holds."""

from __future__ import annotations

from soundstar.store.annotations import RefinementRepository, SuggestionRepository
from soundstar.store.api_keys import ApiKeyRepository
from soundstar.store.counters import CounterRepository
from soundstar.store.database import Database
from soundstar.store.feedback import FeedbackRepository
from soundstar.store.jobs import DEFAULT_MAX_ATTEMPTS, JobRepository
from soundstar.store.sessions import SessionRepository
from soundstar.store.users import UserRepository


class Store:
    def __init__(self, db: Database, *, max_job_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        self.db = db
        self.users = UserRepository(db)
        self.api_keys = ApiKeyRepository(db)
        self.sessions = SessionRepository(db)
        self.suggestions = SuggestionRepository(db)
        self.refinements = RefinementRepository(db)
        self.feedback = FeedbackRepository(db)
        self.jobs = JobRepository(db, max_attempts=max_job_attempts)
        self.counters = CounterRepository(db)
