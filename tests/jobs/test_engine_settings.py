"""A job renders with the engine settings of the process that runs it (render mode, RAVE roles)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from soundstar.config import EngineConfig, Settings
from soundstar.engine.options import engine_options_from_settings
from soundstar.errors import ConfigError
from soundstar.jobs.request import execute
from soundstar.models import GenerationStatus
from soundstar.store import Store

WORKER = "test-worker"


def _run(store: Store, settings: Settings, job_id: str) -> None:
    job = store.jobs.claim(WORKER, settings.jobs.lease_s)
    assert job is not None and job.id == job_id
    execute(store, settings, job, WORKER, None)


def test_a_job_follows_the_configured_render_mode(
    store: Store, settings: Settings, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    settings.engine.render_mode = "ddsp"
    job_id = enqueue_short(prompt="a calm piano and strings piece with drums")
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.COMPLETED, job and job.error_message
    assert job.result is not None and job.result.synthesis
    assert set(job.result.synthesis.values()) == {"ddsp"}


def test_a_bad_engine_setting_fails_the_job_with_its_reason(
    store: Store, settings: Settings, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    settings.engine.rave_roles = ["vocals"]
    job_id = enqueue_short()
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.FAILED
    assert "rave_roles" in (job.error_message or "")


def test_engine_settings_become_options_and_overrides_win() -> None:
    options = engine_options_from_settings(
        EngineConfig(render_mode="ddsp", rave_roles=["lead", "pad"], rave_mix=0.5)
    )
    assert (options.mode, options.rave_roles, options.rave_mix) == ("ddsp", ("lead", "pad"), 0.5)
    assert (
        engine_options_from_settings(EngineConfig(render_mode="ddsp"), mode="auto").mode == "auto"
    )
    with pytest.raises(ConfigError, match="unknown roles"):
        engine_options_from_settings(EngineConfig(rave_roles=["lead", "kazoo"]))
