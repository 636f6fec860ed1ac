"""Starting a live session from words, and playing it for a while with changes on time."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from soundstar.audio.export import SUPPORTED_SAMPLE_RATES, check_output_path, write_audio
from soundstar.aurora.preprocess import check_prompt
from soundstar.errors import ParameterError
from soundstar.live.changes import LiveChange
from soundstar.live.midi import write_live_midi
from soundstar.live.session import LiveBlock, LiveSession
from soundstar.models import MusicalParameters

if TYPE_CHECKING:
    from soundstar.aurora.pipeline import Aurora


def start_session(
    aurora: Aurora,
    prompt: str,
    *,
    seed: int | None = None,
    sample_rate: int = 44100,
    target_lufs: float = -14.0,
    parameters: MusicalParameters | None = None,
    block_beats: float | None = None,
) -> LiveSession:
    """A session playing what `prompt` asks for, or the `parameters` given (the words then
    only checked); `aurora` plans them, and plans again when a change asks."""
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        raise ParameterError(
            f"sample rate {sample_rate} Hz is not supported; use one of "
            + ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES),
            field="sample_rate",
        )
    if parameters is None:
        understood = aurora.understand(prompt)
        parameters, plan = understood.parameters, understood.plan
    else:
        check_prompt(prompt)
        plan = aurora.plan(parameters).value
    return LiveSession(
        params=parameters,
        plan=plan,
        planner=lambda params: aurora.plan(params).value,
        seed=secrets.randbelow(2**31) if seed is None else seed,
        sample_rate=sample_rate,
        target_lufs=target_lufs,
        block_beats=block_beats,
    )


def play(
    session: LiveSession, seconds: float, changes: Iterable[LiveChange] = ()
) -> Iterator[LiveBlock]:
    """Bars until `seconds` of playing time are rendered; each change is queued before the
    first bar that starts at or after its time."""
    waiting = sorted(changes, key=lambda c: c.at_seconds)
    for change in waiting:  # every value checked before a bar is rendered
        session.change(change.override)
    session.drop_pending()
    while session.seconds < seconds:
        while waiting and waiting[0].at_seconds <= session.seconds + 1e-9:
            session.change(waiting.pop(0).override)
        yield session.next_block()


def render_live(
    session: LiveSession,
    *,
    seconds: float,
    changes: Iterable[LiveChange],
    output: Path,
    midi: Path | None = None,
) -> list[LiveBlock]:
    """Play `seconds` of the session into `output` (WAV, FLAC or MP3 by its suffix) and,
    when asked, the notes played into `midi`; returns the bars played (audio dropped)."""
    if not 0 < seconds <= 3600:
        raise ParameterError("--seconds must be more than 0 and at most 3600", field="seconds")
    for path in (output, midi):
        if path is not None:
            check_output_path(path)
    n = round(seconds * session.sample_rate)
    audio = np.zeros((2, n), dtype=np.float32)
    played: list[LiveBlock] = []
    at = 0
    for block in play(session, seconds, changes):
        take = min(block.audio.shape[1], n - at)
        audio[:, at : at + take] = block.audio[:, :take]
        at += take
        played.append(_without_audio(block))
    fmt = output.suffix.lower().lstrip(".") or "wav"
    if fmt not in ("wav", "flac", "mp3"):
        raise ParameterError(f"cannot write {output.name!r}: name it .wav, .flac or .mp3")
    write_audio(output, audio, sample_rate=session.sample_rate, format=fmt)  # type: ignore[arg-type]
    if midi is not None:
        write_live_midi(midi, played)
    return played


def _without_audio(block: LiveBlock) -> LiveBlock:
    return replace(block, audio=np.zeros((2, 0), dtype=np.float32))
