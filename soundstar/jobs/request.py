"""A generation job's request and how one worker runs it (DESIGN.md "Jobs").

`JobRequest` is what the service stores as the job's request JSON. `execute` runs
the one generation path (`pipeline.generate`) for a claimed job, keeps its lease
alive, reports progress, and always ends the job: completed with its files, or
failed with the error's code. Files are rendered into a private temporary
directory and moved into `<data_dir>/generations/<job_id>/` only when complete,
so a retried job never serves half a file.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from soundstar.audio.export import SUPPORTED_SAMPLE_RATES
from soundstar.audio.listen import ClipAnalysis
from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings
from soundstar.editing.jobs import PROJECT_NAME, JobEdit, run_edit_job
from soundstar.engine.options import engine_options_from_settings
from soundstar.errors import OutputError, ParameterError, SoundstarError
from soundstar.loops import LOOP_BARS_MAX
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    GenerationResult,
    MusicalParameters,
    OutputFiles,
    StructuralPlan,
)
from soundstar.pipeline import GenerateRequest, generate
from soundstar.store.faults import storage_fault
from soundstar.store.repository import Store
from soundstar.store.schemas import JobRecord

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.25
INTERNAL_ERROR_CODE = "INTERNAL_ERROR"
GENERATIONS_DIR = "generations"
AUDIO_NAME = "audio"
MIDI_NAME = "score.mid"
PLAN_NAME = "plan.json"
STEMS_DIR = "stems"
_STAGE_MAX_CHARS = 64
# Optional GenerateRequest fields passed through when the pipeline accepts them.
_PASS_THROUGH = ("parameters", "plan", "enhance", "enhancement_level", "loop", "loop_bars", "like")


class JobRequest(BaseModel):
    """One generation as queued: the prompt, output options and optional overrides.

    `parameters` are the person's slider values, used instead of parsing the
    prompt; `plan` is a structural plan to follow instead of planning.
    """

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    duration_seconds: float = Field(default=30.0, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    output_format: Literal["wav", "mp3", "flac"] = "wav"
    sample_rate: int = 44100
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    enhance: bool = True
    enhancement_level: Literal["minimal", "moderate", "aggressive"] | None = None
    parameters: MusicalParameters | None = None
    plan: StructuralPlan | None = None
    stems: bool = True
    loop: bool = False
    loop_bars: int | None = Field(default=None, ge=1, le=LOOP_BARS_MAX)
    like: ClipAnalysis | None = None
    edit: JobEdit | None = Field(
        default=None, description="remake, extend or vary another generation instead"
    )

    @field_validator("sample_rate")
    @classmethod
    def _check_sample_rate(cls, value: int) -> int:
        if value not in SUPPORTED_SAMPLE_RATES:
            rates = ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES)
            raise ValueError(f"sample rate {value} Hz is not supported; use one of {rates}")
        return value

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in the job row."""
        return self.model_dump(mode="json", by_alias=True)


def parse_request(data: dict[str, Any]) -> JobRequest:
    """A stored request as a JobRequest; ParameterError naming the first bad field."""
    try:
        return JobRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise ParameterError(f"{field}: {first['msg']}", field=field) from None


def job_dir(settings: Settings, job_id: str) -> Path:
    """Where a job's finished files live: `<data_dir>/generations/<job_id>/`."""
    return Path(settings.data_dir) / GENERATIONS_DIR / job_id


class _LeaseLost(Exception):
    """The job's lease now belongs to another worker: stop working on it."""


class _Lease:
    """Heartbeats the job's lease from a background thread while the render runs.

    Progress callbacks alone cannot keep a lease alive (a long synthesis step
    reports rarely), so a thread renews it every third of the lease.
    """

    def __init__(self, store: Store, job_id: str, worker_id: str, lease_s: float) -> None:
        self._store, self._job_id, self._worker_id = store, job_id, worker_id
        self._lease_s = lease_s
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                if not self._store.jobs.heartbeat(self._job_id, self._worker_id, self._lease_s):
                    self.lost.set()
                    return
            except Exception:  # a database hiccup: try again at the next beat
                log.warning("heartbeat for job %s failed", self._job_id, exc_info=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class _Progress:
    """Forwards pipeline progress to the job row, at most every PROGRESS_INTERVAL_S."""

    def __init__(self, store: Store, job_id: str, worker_id: str, lease: _Lease) -> None:
        self._store, self._job_id, self._worker_id, self._lease = store, job_id, worker_id, lease
        self._last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if self._lease.lost.is_set():
            raise _LeaseLost(self._job_id)
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_S:
            return
        self._last = now
        clamped = min(max(float(fraction), 0.0), 1.0)
        try:
            self._store.jobs.progress(
                self._job_id, clamped, stage[:_STAGE_MAX_CHARS], worker_id=self._worker_id
            )
        except Exception:  # progress is advisory; never let it fail the render
            log.warning("progress update for job %s failed", self._job_id, exc_info=True)


def _generate_request(request: JobRequest, work: Path) -> GenerateRequest:
    fields: dict[str, Any] = {
        "prompt": request.prompt,
        "output_path": work / f"{AUDIO_NAME}.{request.output_format}",
        "duration_seconds": request.duration_seconds,
        "seed": request.seed,
        "output_format": request.output_format,
        "sample_rate": request.sample_rate,
        "midi_path": work / MIDI_NAME,
        "plan_path": work / PLAN_NAME,
        # a loop's tails are wrapped onto its head: it has no sections to remake or extend
        "project_path": None if request.loop else work / PROJECT_NAME,
        "stems_dir": work / STEMS_DIR if request.stems else None,
    }
    for name in _PASS_THROUGH:
        value = getattr(request, name)
        if name in GenerateRequest.model_fields and value is not None:
            fields[name] = value
    try:
        return GenerateRequest(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise ParameterError(f"{field}: {first['msg']}", field=field) from None


def _moved(path: str | None, work: Path, final: Path) -> str | None:
    return None if path is None else str(final / Path(path).relative_to(work))


def _publish(result: GenerationResult, work: Path, final: Path) -> OutputFiles:
    """Move the finished files from `work` to `final` (replacing a previous attempt's)."""
    for _ in range(2):
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            work.replace(final)
            break
        except OSError:  # another attempt published between our rmtree and replace
            continue
    else:
        raise OutputError(f"could not move the finished files into {final}")
    files = result.files
    return OutputFiles(
        audio=_moved(files.audio, work, final),
        midi=_moved(files.midi, work, final),
        plan=_moved(files.plan, work, final),
        project=_moved(files.project, work, final),
        stems={name: str(_moved(path, work, final)) for name, path in files.stems.items()},
    )


def _files_json(files: OutputFiles) -> dict[str, Any]:
    return {
        "audio": files.audio,
        "midi": files.midi,
        "plan": files.plan,
        "project": files.project,
        "stems": files.stems,
    }


def _without_paths(message: str, settings: Settings) -> str:
    """A failure message for the person: the server's own directories left out."""
    for root in {str(Path(settings.data_dir)), str(Path(settings.data_dir).resolve())}:
        message = message.replace(root + "/", "").replace(root, "the data directory")
    return message


def execute(
    store: Store, settings: Settings, job: JobRecord, worker_id: str, aurora: Aurora | None
) -> None:
    """Run a claimed job to its end: completed with files, or failed with a code.

    Never leaves the job in `processing` unless this worker lost its lease to
    another (then the other worker finishes it) or the process itself dies
    (then the lease expires and the job is run again).
    """
    lease_s = settings.jobs.lease_s
    final = job_dir(settings, job.id)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{job.id}.*.tmp"):  # a dead attempt's half-written files
        shutil.rmtree(stale, ignore_errors=True)
    work = final.parent / f".{job.id}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        request = parse_request(job.request)
        work.mkdir()
        with _Lease(store, job.id, worker_id, lease_s) as lease:
            if request.edit is not None:
                result = run_edit_job(
                    request.edit,
                    source_dir=job_dir(settings, request.edit.source),
                    work=work,
                    output_format=request.output_format,
                    generation_id=job.id,
                    audio_name=AUDIO_NAME,
                    midi_name=MIDI_NAME,
                    plan_name=PLAN_NAME,
                )
            else:
                result = generate(
                    _generate_request(request, work),
                    aurora=aurora,
                    progress=_Progress(store, job.id, worker_id, lease),
                    generation_id=job.id,
                    engine=engine_options_from_settings(settings.engine),
                )
            if lease.lost.is_set() or not store.jobs.heartbeat(job.id, worker_id, lease_s):
                raise _LeaseLost(job.id)
            files = _publish(result, work, final)
        stored = result.model_copy(update={"files": files})
        if not store.jobs.complete(job.id, stored, _files_json(files), worker_id=worker_id):
            log.warning("job %s was taken over before it could be completed", job.id)
    except _LeaseLost:
        log.warning("job %s: lease lost to another worker; leaving it to them", job.id)
    except SoundstarError as exc:
        log.info("job %s failed: %s: %s", job.id, exc.code, exc.message)
        message = _without_paths(exc.message, settings)
        store.jobs.fail(job.id, exc.code, message, worker_id=worker_id)
    except OSError as exc:
        fault = storage_fault(exc)
        if fault is None:
            log.exception("job %s failed with an internal error", job.id)
            fault = OutputError(f"the files of generation {job.id} could not be written")
        log.warning("job %s failed: %s (%s)", job.id, fault.code, exc)
        store.jobs.fail(job.id, fault.code, fault.message, worker_id=worker_id)
    except Exception:
        log.exception("job %s failed with an internal error", job.id)
        store.jobs.fail(
            job.id,
            INTERNAL_ERROR_CODE,
            f"generation failed because of an internal error (job {job.id})",
            worker_id=worker_id,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
