"""The `soundstar` command: generate, remake, extend, vary, analyze, live, parse, plan,
serve, worker, keys, db.

Every error ends the command with one line on stderr and a non-zero exit
status; nothing half-written is left behind.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from soundstar.cli_admin import db_app, keys_app
from soundstar.errors import ParameterError, SoundstarError

try:  # typer ≥ 0.20 vendors click; older releases depend on it
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

app = typer.Typer(
    name="soundstar",
    help="Describe the music you want; get audio, MIDI, stems and the plan.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FORMATS = ("wav", "flac", "mp3")
EXIT_INPUT = 2
EXIT_FAILURE = 1


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    typer.echo(f"soundstar: error: {message}", err=True)
    raise typer.Exit(code)


def _resolve_format(fmt: str | None, output: Path) -> str:
    if fmt is not None:
        value = fmt.lower()
        if value not in FORMATS:
            _fail(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return value
    suffix = output.suffix.lower().lstrip(".")
    if suffix in ("mid", "midi"):
        _fail(f"-o writes the audio; write the MIDI with --midi {output.name}")
    if suffix and suffix not in FORMATS:
        _fail(
            f"cannot tell an audio format from {output.name!r}; name it .wav, .flac or .mp3, "
            "or give --format"
        )
    return suffix or "wav"


def _aurora(only: str | None = None) -> Any:
    """Aurora built from the configuration; a bad configuration stops here, naming its key.
    `only` forces one implementation (rules, codex, local_llm) with no fallback."""
    from soundstar.aurora.builders import build_aurora
    from soundstar.config import load_settings

    return build_aurora(load_settings(), only=only)


class Forced(StrEnum):
    """Implementations `--implementation` can force."""

    rules = "rules"
    codex = "codex"
    local_llm = "local_llm"


Implementation = Annotated[
    Forced | None,
    typer.Option(
        "--implementation", help="Force one implementation, with no fallback.", case_sensitive=False
    ),
]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


class _Progress:
    """A progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.__enter__()
            self._task = self._bar.add_task("understand", total=1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, stage: str, fraction: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=fraction, description=stage)


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What the music should be, in plain English.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Audio file to write.")] = Path(
        "soundstar.wav"
    ),
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Seconds, 5–600 (default: from the prompt, else 30)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same music.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="wav, flac or mp3 (default: from the file name).")
    ] = None,
    sample_rate: Annotated[
        int, typer.Option("--sample-rate", help="22050, 32000, 44100 or 48000.")
    ] = 44100,
    bit_depth: Annotated[int, typer.Option("--bit-depth", help="16, 24, or 32 (float WAV).")] = 16,
    mono: Annotated[bool, typer.Option("--mono", help="Write one channel instead of two.")] = False,
    midi: Annotated[
        Path | None, typer.Option("--midi", help="Also write the score as a MIDI file.")
    ] = None,
    stems: Annotated[
        Path | None,
        typer.Option("--stems", help="Also write each track's stem into this directory."),
    ] = None,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="Also write the structural plan as JSON.")
    ] = None,
    loudness: Annotated[
        float, typer.Option("--loudness", help="Target integrated loudness, LUFS.")
    ] = -14.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the GenerationResult as JSON on stdout.")
    ] = False,
    controls: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="Set a control, NAME=VALUE (repeatable): tempo_bpm, key, time_signature, "
            "energy_level, valence, danceability, genre, mood, instruments, duration_seconds, "
            "sections.NAME.energy or sections.N.energy (N from 1).",
        ),
    ] = None,
    params_in: Annotated[
        Path | None,
        typer.Option("--params", help="Render these parameters (JSON, as --json writes them)."),
    ] = None,
    plan_in: Annotated[
        Path | None,
        typer.Option("--plan-in", help="Render this plan (JSON, as --plan writes it)."),
    ] = None,
    loop: Annotated[
        bool,
        typer.Option("--loop", help="A seamless loop: whole bars, tails wrapped onto its start."),
    ] = False,
    bars: Annotated[
        int | None, typer.Option("--bars", help="Bars in the loop (default 8; with --loop).")
    ] = None,
    like_clip: Annotated[
        Path | None,
        typer.Option(
            "--like",
            help="Take tempo, key, meter and energy from this clip (WAV, FLAC, MP3) where "
            "the prompt does not state them.",
        ),
    ] = None,
    project_file: Annotated[
        Path | None,
        typer.Option(
            "--project", help="Also write the project (to remake, extend or vary it later)."
        ),
    ] = None,
) -> None:
    """Render a track from a prompt."""
    from pydantic import ValidationError

    from soundstar.models import DURATION_MAX_S, DURATION_MIN_S
    from soundstar.pipeline import GenerateRequest
    from soundstar.pipeline import generate as run_generate

    audio_format = _resolve_format(fmt, output)
    if duration is not None and not DURATION_MIN_S <= duration <= DURATION_MAX_S:
        _fail(
            f"--duration must be between {DURATION_MIN_S:g} and {DURATION_MAX_S:g} seconds, got {duration:g}"
        )
    if seed is not None and seed < 0:
        _fail("--seed must be zero or positive")
    if bit_depth not in (16, 24, 32):
        _fail(f"--bit-depth must be 16, 24 or 32, got {bit_depth}")
    from soundstar.controls import controlled, load_parameters, load_plan, parse_overrides

    if bars is not None and not loop:
        _fail("--bars is the length of a loop; give --loop too")
    overrides = parse_overrides(controls or [])
    aurora = _aurora()
    taken = None
    if like_clip is not None:
        taken = _like(aurora, prompt, like_clip, given=params_in is not None, duration=duration)
        overrides = [*taken.overrides, *overrides]  # --set, later, wins
    given_params, given_plan = controlled(
        aurora,
        prompt,
        overrides,
        parameters=load_parameters(params_in) if params_in else None,
        plan=load_plan(plan_in) if plan_in else None,
        duration_seconds=duration,
    )
    try:
        request = GenerateRequest(
            prompt=prompt,
            output_path=output,
            duration_seconds=duration,
            seed=seed,
            output_format=audio_format,
            sample_rate=sample_rate,
            bit_depth=bit_depth,
            channels=1 if mono else 2,
            midi_path=midi,
            stems_dir=stems,
            plan_path=plan_file,
            project_path=project_file,
            target_lufs=loudness,
            parameters=given_params,
            plan=given_plan,
            loop=loop,
            loop_bars=bars,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        return
    with _Progress() as progress:
        result = run_generate(request, aurora=aurora, progress=progress)
    if as_json:
        typer.echo(result.model_dump_json(indent=2, by_alias=True))
    else:
        params = result.parameters
        assert params is not None
        typer.echo(
            f"wrote {result.files.audio}: {result.duration_seconds:.2f} s, {params.genre}"
            f"{' / ' + params.sub_genre if params.sub_genre else ''}, {params.tempo_bpm:g} BPM, "
            f"{params.key}, {params.time_signature}, {result.measured['integrated_lufs']:.1f} LUFS, "
            f"seed {result.seed}, {result.timings_ms['total'] / 1000:.2f} s"
        )
        for notice in result.notices:
            typer.echo(f"  {notice.level}: {notice.message}", err=True)
        for choice in taken.choices if taken else []:
            verdict = "taken" if choice.taken else "kept the prompt's"
            typer.echo(f"  like: {choice.name} {choice.clip_value} {verdict} ({choice.reason})")


def _like(aurora: Any, prompt: str, clip: Path, *, given: bool, duration: float | None) -> Any:
    """What `--like` takes from `clip`: read where the prompt (unless parameters were
    given, which state everything) is silent."""
    from soundstar.audio.listen import analyze_clip
    from soundstar.like import like

    analysis = analyze_clip(clip)
    parsed = None if given else aurora.understand(prompt, duration_seconds=duration).parsed
    return like(analysis, parsed)


@app.command()
def analyze(
    clip: Annotated[Path, typer.Argument(help="An audio file: WAV, FLAC or MP3.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hear a clip: tempo, key, meter, loudness, energy by section and brightness."""
    from soundstar.audio.listen import analyze_clip

    result = analyze_clip(clip)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    rows = [
        ("file", f"{clip.name} ({result.format}, {result.duration_seconds:.1f} s, "
                 f"{result.sample_rate} Hz, {result.channels} ch)"),
        ("tempo", f"{result.tempo_bpm:g} BPM"),
        ("key", f"{result.key} (confidence {result.key_confidence:.2f})"),
        ("meter", result.time_signature),
        ("loudness", f"{result.integrated_lufs:.1f} LUFS integrated"),
        ("brightness", f"{result.brightness_hz:.0f} Hz spectral centroid"),
        ("energy", f"{result.energy_level:.2f}"),
    ]  # fmt: skip
    for name, value in rows:
        typer.echo(f"{name:<11} {value}")
    typer.echo("sections:")
    for segment in result.sections:
        bar = "█" * max(1, round(segment.energy * 20))
        typer.echo(
            f"  {segment.start_seconds:7.1f}–{segment.end_seconds:7.1f} s  "
            f"{segment.loudness_lufs:6.1f} LUFS  energy {segment.energy:.2f} {bar}"
        )


ProjectFile = Annotated[
    Path, typer.Argument(help="The project file `generate --project` (or an edit) wrote.")
]
EditOutput = Annotated[Path, typer.Option("-o", "--output", help="Audio file to write.")]
ProjectOut = Annotated[
    Path | None, typer.Option("--project", help="Also write the edited track's project.")
]
OriginalAudio = Annotated[
    Path | None,
    typer.Option(
        "--audio",
        help="The original's audio (WAV or FLAC) when it is not where the project says.",
    ),
]
EditSeed = Annotated[int | None, typer.Option("--seed", help="Seed of the new material.")]
EditFormat = Annotated[
    str | None, typer.Option("--format", help="wav, flac or mp3 (default: from the file name).")
]
EditJson = Annotated[bool, typer.Option("--json", help="Print what changed and stayed as JSON.")]


def _edited(kind: str, output: Path, as_json: bool, run: Any) -> None:
    """Run an edit body and report what changed and what stayed."""
    from soundstar.editing.commands import describe

    result, _written = run()
    if as_json:
        _print_json({"kind": kind, "audio": str(output), **result.summary()})
    else:
        for line in describe(kind, result, output):
            typer.echo(line)
    for notice in result.notices:
        typer.echo(f"  info: {notice}", err=True)


@app.command()
def remake(
    project: ProjectFile,
    section: Annotated[
        int, typer.Option("--section", help="Section to rewrite, 1-based as the plan lists it.")
    ],
    output: EditOutput = Path("remake.wav"),
    seed: EditSeed = None,
    project_out: ProjectOut = None,
    audio: OriginalAudio = None,
    fmt: EditFormat = None,
    as_json: EditJson = False,
) -> None:
    """Rewrite one section; the rest stays sample-identical outside short joins."""
    from soundstar.editing.commands import run_remake

    if seed is not None and seed < 0:
        _fail("--seed must be zero or positive")
    audio_format = _resolve_format(fmt, output)
    _edited(
        "remake",
        output,
        as_json,
        lambda: run_remake(
            project,
            section=section,
            seed=seed,
            output=output,
            project_out=project_out,
            audio=audio,
            format=audio_format,
        ),
    )


@app.command()
def extend(
    project: ProjectFile,
    to: Annotated[float, typer.Option("--to", help="Length of the extended track, seconds.")],
    output: EditOutput = Path("extended.wav"),
    seed: EditSeed = None,
    project_out: ProjectOut = None,
    audio: OriginalAudio = None,
    fmt: EditFormat = None,
    as_json: EditJson = False,
) -> None:
    """Continue the track to --to seconds: all before its last section kept, new sections
    and an ending after."""
    from soundstar.editing.commands import run_extend

    if seed is not None and seed < 0:
        _fail("--seed must be zero or positive")
    audio_format = _resolve_format(fmt, output)
    _edited(
        "extend",
        output,
        as_json,
        lambda: run_extend(
            project,
            to_seconds=to,
            seed=seed,
            output=output,
            project_out=project_out,
            audio=audio,
            format=audio_format,
        ),
    )


@app.command()
def vary(
    project: ProjectFile,
    output: EditOutput = Path("variation.wav"),
    seed: EditSeed = None,
    project_out: ProjectOut = None,
    fmt: EditFormat = None,
    as_json: EditJson = False,
) -> None:
    """The same song played again differently: same plan, lineup, tempo and key, new parts."""
    from soundstar.editing.commands import run_vary

    if seed is not None and seed < 0:
        _fail("--seed must be zero or positive")
    audio_format = _resolve_format(fmt, output)
    _edited(
        "vary",
        output,
        as_json,
        lambda: run_vary(
            project, seed=seed, output=output, project_out=project_out, format=audio_format
        ),
    )


@app.command()
def live(
    prompt: Annotated[str, typer.Argument(help="What the music should be, in plain English.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Audio file to write.")] = Path(
        "soundstar-live.wav"
    ),
    seconds: Annotated[float, typer.Option("--seconds", help="How long to play.")] = 30.0,
    changes: Annotated[
        list[str] | None,
        typer.Option(
            "--change",
            metavar="T:NAME=VALUE",
            help="At T seconds set a control (repeatable), heard from the next bar: tempo_bpm, "
            "key, time_signature, energy_level, valence, danceability, genre, mood, "
            "instruments, or mute=ROLE,ROLE (mute= unmutes).",
        ),
    ] = None,
    midi: Annotated[
        Path | None, typer.Option("--midi", help="Also write the notes played as MIDI.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same music.")] = None,
    sample_rate: Annotated[
        int, typer.Option("--sample-rate", help="22050, 32000, 44100 or 48000.")
    ] = 44100,
) -> None:
    """Play an endless piece bar by bar for --seconds, with changes taking effect on time."""
    from soundstar.live.changes import parse_change
    from soundstar.live.play import render_live, start_session

    if seed is not None and seed < 0:
        _fail("--seed must be zero or positive")
    wanted = [parse_change(text) for text in changes or []]
    session = start_session(_aurora(), prompt, seed=seed, sample_rate=sample_rate)
    played = render_live(session, seconds=seconds, changes=wanted, output=output, midi=midi)
    shifts = [f"{b.start_s:.2f} s: {', '.join(b.changed)}" for b in played if b.changed]
    typer.echo(
        f"wrote {output}: {seconds:g} s live, {len(played)} bars, seed {session.seed}"
        + (f"; changes at {'; '.join(shifts)}" if shifts else "")
    )


@app.command()
def parse(
    prompt: Annotated[str, typer.Argument(help="The prompt to read.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    implementation: Implementation = None,
) -> None:
    """Show the musical parameters read from a prompt."""
    pre_answer = _aurora(implementation and implementation.value).understand(prompt)
    params = pre_answer.parameters
    if as_json:
        _print_json(
            {
                "parameters": params.model_dump(mode="json"),
                "parsed_parameters": pre_answer.parsed.model_dump(mode="json"),
                "implementation_used": pre_answer.implementations["semantic_parser"].value,
                "notices": [n.model_dump(mode="json") for n in pre_answer.notices],
            }
        )
        return
    rows = [
        ("genre", params.genre + (f" / {params.sub_genre}" if params.sub_genre else "")),
        ("tempo", f"{params.tempo_bpm:g} BPM ({pre_answer.parsed.tempo.type})"),
        ("key", params.key),
        ("time signature", params.time_signature),
        ("mood", ", ".join(params.mood) or "-"),
        ("energy", f"{params.energy_level:.2f}"),
        ("valence", f"{params.valence:.2f}"),
        ("danceability", f"{params.danceability:.2f}"),
        ("instruments", ", ".join(f"{i.name} ({i.role.value})" for i in params.instrumentation)),
        ("excluded", params.exclusions.describe() or "-"),
        ("structure", params.structure),
        ("artists", ", ".join(params.reference_artists) or "-"),
        ("era", params.era or "-"),
        ("duration", f"{params.duration_seconds:g} s"),
        ("implementation", pre_answer.implementations["semantic_parser"].value),
    ]
    for name, value in rows:
        typer.echo(f"{name:<15} {value}")
    for notice in pre_answer.notices:
        typer.echo(f"  {notice.level}: {notice.message}", err=True)


@app.command()
def plan(
    prompt: Annotated[str, typer.Argument(help="The prompt to plan.")],
    duration: Annotated[float | None, typer.Option("--duration", help="Seconds, 5–600.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    implementation: Implementation = None,
) -> None:
    """Show the section-by-section plan for a prompt."""
    from soundstar.models import DURATION_MAX_S, DURATION_MIN_S

    if duration is not None and not DURATION_MIN_S <= duration <= DURATION_MAX_S:
        _fail(
            f"--duration must be between {DURATION_MIN_S:g} and {DURATION_MAX_S:g} seconds, got {duration:g}"
        )
    understanding = _aurora(implementation and implementation.value).understand(
        prompt, duration_seconds=duration
    )
    result = understanding.plan
    if as_json:
        _print_json(
            {
                "structural_plan": result.model_dump(mode="json", by_alias=True),
                "implementation_used": understanding.implementations["structural_planner"].value,
            }
        )
        return
    total = understanding.parameters.duration_seconds
    typer.echo(
        f"{result.structure_type} — {total:g} s, key {result.chord_progression.key} {result.chord_progression.mode}"
    )
    for section in result.sections:
        bar = "█" * max(1, round(section.energy_level * 20))
        typer.echo(
            f"  {section.name:<14} {section.duration_ratio * total:6.1f} s  energy {section.energy_level:.2f} {bar}"
        )
    typer.echo("  chords: " + " ".join(result.chord_progression.chords))
    for transition in result.transitions:
        typer.echo(f"  {transition.from_} → {transition.to}: {transition.type}")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)", min=1, max=65535)] = None,
    workers: Annotated[
        int | None, typer.Option(help="generation workers in the server process", min=1, max=64)
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run the HTTP service: the API, the web page at /, and (by default) the job workers."""
    import uvicorn

    from soundstar.api.app import create_app
    from soundstar.config import load_settings

    settings = load_settings()
    if workers is not None:
        settings.jobs.workers = workers
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"soundstar: serving on http://{host}:{port} (API docs at /docs)", err=True)
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level=log_level, ws="websockets-sansio"
    )


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", help="Worker processes on this machine.")
    ] = 2,
    loglevel: Annotated[
        str, typer.Option("--loglevel", help="debug, info, warning, error.")
    ] = "info",
) -> None:
    """Run Celery generation workers on the Redis broker (SOUNDSTAR_JOBS__BROKER_URL or SOUNDSTAR_REDIS_URL)."""
    from soundstar.config import load_settings
    from soundstar.jobs.celery_app import run_worker

    if concurrency < 1:
        _fail(f"--concurrency must be at least 1, got {concurrency}")
    run_worker(load_settings(), concurrency, loglevel)


app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")


def main() -> None:
    """Entry point: usage errors and Soundstar errors become one line on stderr."""
    try:
        status = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("soundstar: aborted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except click_exceptions.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        typer.echo(f"soundstar: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_INPUT)
    except ParameterError as exc:
        typer.echo(f"soundstar: error: {exc.message}", err=True)
        sys.exit(EXIT_INPUT)
    except SoundstarError as exc:
        typer.echo(f"soundstar: error: {exc.code}: {exc.message}", err=True)
        sys.exit(EXIT_INPUT if exc.http_status < 500 else EXIT_FAILURE)
    except KeyboardInterrupt:
        typer.echo("soundstar: interrupted", err=True)
        sys.exit(130)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
