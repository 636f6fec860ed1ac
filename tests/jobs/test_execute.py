"""`execute`: a claimed job ends completed with its files, or failed with a code."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from soundstar.config import Settings
from soundstar.errors import OutputError, ParameterError, RenderError
from soundstar.jobs import request as job_request
from soundstar.jobs.request import JobRequest, execute, job_dir, parse_request
from soundstar.models import GenerationStatus
from soundstar.pipeline import GenerateRequest
from soundstar.store import Store

WORKER = "test-worker"


def _run(store: Store, settings: Settings, job_id: str) -> None:
    job = store.jobs.claim(WORKER, settings.jobs.lease_s)
    assert job is not None and job.id == job_id
    execute(store, settings, job, WORKER, None)


def _leftovers(settings: Settings) -> list[str]:
    root = Path(settings.data_dir) / "generations"
    return (
        sorted(p.name for p in root.iterdir() if p.name.endswith(".tmp")) if root.exists() else []
    )


def test_execute_writes_files_and_completes(
    store: Store, settings: Settings, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    job_id = enqueue_short(output_format="flac")
    _run(store, settings, job_id)

    job = store.jobs.get(job_id, user_id)
    assert job is not None
    assert job.status is GenerationStatus.COMPLETED, job.error_message
    assert (job.progress, job.stage, job.lease_owner) == (1.0, "done", None)
    folder = job_dir(settings, job_id)
    assert job.files is not None
    assert job.files["audio"] == str(folder / "audio.flac")
    assert job.files["midi"] == str(folder / "score.mid")
    assert job.files["plan"] == str(folder / "plan.json")
    assert job.files["stems"], "stems were asked for"
    for path in [job.files["audio"], job.files["midi"], job.files["plan"]]:
        assert Path(path).is_file() and Path(path).stat().st_size > 0
    for path in job.files["stems"].values():
        assert Path(path).parent == folder / "stems" and Path(path).is_file()
    assert job.result is not None and job.result.id == job_id
    assert job.result.files.audio == job.files["audio"]
    assert job.result.sample_rate == 22050 and job.result.duration_seconds == pytest.approx(5, 0.1)
    assert _leftovers(settings) == []


def test_without_stems_writes_no_stems(
    store: Store, settings: Settings, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    job_id = enqueue_short(stems=False)
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.COMPLETED
    assert job.files is not None and job.files["stems"] == {}
    assert not (job_dir(settings, job_id) / "stems").exists()


def test_bad_sample_rate_marks_failed_with_validation_code(
    store: Store, settings: Settings, user_id: int
) -> None:
    job_id = store.jobs.enqueue(user_id, {"prompt": "calm piano", "sample_rate": 12345})
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.FAILED
    assert job.error_code == "VALIDATION_ERROR"
    assert job.error_message is not None and "sample_rate" in job.error_message
    assert "12345" in job.error_message
    assert not job_dir(settings, job_id).exists()
    assert _leftovers(settings) == []


def test_unexpected_exception_mid_render_fails_with_safe_message(
    store: Store,
    settings: Settings,
    user_id: int,
    enqueue_short: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exploding(request: GenerateRequest, **kwargs: Any) -> Any:
        request.output_path.write_bytes(b"half a file")
        kwargs["progress"]("synthesis", 0.4)
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(job_request, "generate", exploding)
    job_id = enqueue_short()
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.FAILED
    assert job.error_code == "INTERNAL_ERROR"
    assert job.error_message is not None and "secret" not in job.error_message
    assert job.lease_owner is None
    assert not job_dir(settings, job_id).exists() and _leftovers(settings) == []


def test_soundstar_error_mid_render_keeps_its_code(
    store: Store,
    settings: Settings,
    user_id: int,
    enqueue_short: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(request: GenerateRequest, **kwargs: Any) -> Any:
        raise RenderError("the mixer ran out of headroom")

    monkeypatch.setattr(job_request, "generate", failing)
    job_id = enqueue_short()
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.FAILED
    assert (job.error_code, job.error_message) == ("RENDER_FAILED", "the mixer ran out of headroom")


def test_progress_is_reported_and_throttled(
    store: Store,
    settings: Settings,
    user_id: int,
    enqueue_short: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[float, str | None]] = []
    job_id = enqueue_short()

    def observe() -> None:
        job = store.jobs.get(job_id, user_id)
        assert job is not None
        seen.append((job.progress, job.stage))

    def slow(request: GenerateRequest, **kwargs: Any) -> Any:
        report = kwargs["progress"]
        report("compose", 0.1)
        report("synthesis", 0.2)  # within 0.25 s of the last report: dropped
        observe()
        time.sleep(job_request.PROGRESS_INTERVAL_S + 0.05)
        report("mix", 0.85)
        observe()
        raise RenderError("stop here")

    monkeypatch.setattr(job_request, "generate", slow)
    _run(store, settings, job_id)
    assert seen == [(0.1, "compose"), (0.85, "mix")]


def test_retry_replaces_a_previous_attempts_files(
    store: Store, settings: Settings, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    job_id = enqueue_short()
    folder = job_dir(settings, job_id)
    folder.mkdir(parents=True)
    (folder / "audio.wav").write_bytes(b"truncated")
    (folder / "stale.txt").write_text("from attempt 1")
    stale_work = folder.parent / f".{job_id}.deadbeef.tmp"
    stale_work.mkdir()
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.COMPLETED
    assert not (folder / "stale.txt").exists()
    assert (folder / "audio.wav").stat().st_size > 1000
    assert _leftovers(settings) == []


def test_lost_lease_leaves_the_job_to_its_new_owner(
    store: Store,
    settings: Settings,
    user_id: int,
    enqueue_short: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = enqueue_short()
    job = store.jobs.claim(WORKER, settings.jobs.lease_s)
    assert job is not None

    def taken_over(request: GenerateRequest, **kwargs: Any) -> Any:
        store.jobs.fail(job_id, "RENDER_FAILED", "cancelled elsewhere")  # no longer ours
        raise RuntimeError("render broke after the takeover")

    monkeypatch.setattr(job_request, "generate", taken_over)
    execute(store, settings, job, WORKER, None)
    after = store.jobs.get(job_id, user_id)
    assert after is not None and after.error_message == "cancelled elsewhere"


def test_overrides_are_passed_only_when_the_pipeline_accepts_them(
    store: Store,
    settings: Settings,
    enqueue_short: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captured: list[GenerateRequest] = []

    def capture(request: GenerateRequest, **kwargs: Any) -> Any:
        captured.append(request)
        raise RenderError("captured")

    monkeypatch.setattr(job_request, "generate", capture)
    job_id = enqueue_short(enhance=False, enhancement_level="minimal")
    _run(store, settings, job_id)
    (request,) = captured
    for name, value in (("enhance", False), ("enhancement_level", "minimal")):
        if name in GenerateRequest.model_fields:
            assert getattr(request, name) == value
        else:
            assert name not in request.model_fields_set
    assert request.sample_rate == 22050 and request.seed == 7


def test_job_request_validates_and_round_trips() -> None:
    request = JobRequest(prompt="lofi beat")
    assert (request.duration_seconds, request.output_format, request.sample_rate) == (
        30.0,
        "wav",
        44100,
    )
    assert request.enhance is True and request.stems is True
    assert parse_request(request.to_json()) == request
    for bad, field in (
        ({"prompt": "x", "duration_seconds": 601}, "duration_seconds"),
        ({"prompt": "x", "output_format": "ogg"}, "output_format"),
        ({"prompt": "x", "sample_rate": 8000}, "sample_rate"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "colour": "red"}, "colour"),
    ):
        with pytest.raises(ParameterError) as info:
            parse_request(bad)
        assert getattr(info.value, "field", None) == field


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (lambda work: OSError(errno.ENOSPC, "No space left on device", str(work)), "STORAGE_FULL"),
        (lambda work: OutputError(f"cannot write {work}/audio.wav: disk full"), "OUTPUT_ERROR"),
    ],
)
def test_a_full_disk_fails_the_job_without_a_server_path(
    store: Store,
    settings: Settings,
    user_id: int,
    enqueue_short: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    raised: Callable[[Path], Exception],
    code: str,
) -> None:
    def full(request: GenerateRequest, **kwargs: Any) -> Any:
        raise raised(request.output_path.parent)

    monkeypatch.setattr(job_request, "generate", full)
    job_id = enqueue_short()
    _run(store, settings, job_id)
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.FAILED
    assert job.error_code == code and job.error_message
    assert str(settings.data_dir) not in job.error_message
    assert str(settings.data_dir.resolve()) not in job.error_message
