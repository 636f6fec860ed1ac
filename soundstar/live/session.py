"""A live piece: an endless timeline composed a section at a time and rendered bar by bar.

The plan's sections repeat in order, each as long as it is in a piece of the parameters'
duration. A section is composed when the timeline reaches it (its own seed, from the
session's seed and its place), and its bars are rendered one at a time. Changes wait for
the next bar boundary; a change of parameters re-plans and composes afresh from that bar
(the rest of the current section, in the new key, tempo, energy or lineup), so every bar
after the change follows it and every bar before it is as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from soundstar.controls import Override
from soundstar.engine.bar_render import Bar, BarPart, BarRenderer
from soundstar.engine.composer import compose
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.engine.note_arrays import glide_arrays, note_arrays
from soundstar.engine.production import genre_production
from soundstar.errors import ParameterError
from soundstar.knowledge import KnowledgeBase, load_knowledge
from soundstar.live.changes import applied
from soundstar.models import (
    MusicalParameters,
    Note,
    Score,
    StructuralPlan,
    split_key,
    split_meter,
)
from soundstar.sections import bars_in, fit_sections
from soundstar.theory import pitch_class

Planner = Callable[[MusicalParameters], StructuralPlan]
_DRUM_VOICE_BY_NOTE = {note: voice for voice, note in GM_DRUM_NOTES.items()}


@dataclass(frozen=True)
class PlayedTrack:
    """One part as heard in one bar: its notes in beats from the bar's start."""

    name: str
    instrument: str
    role: str
    program: int
    is_drum: bool
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class LiveBlock:
    """One rendered block (a bar, or part of one): its audio (2, n) float32 and what it
    played, notes in beats from the block's start."""

    index: int
    start_s: float
    audio: np.ndarray
    tempo_bpm: float
    time_signature: str
    key: str
    energy: float
    section: str
    beats: float
    tracks: tuple[PlayedTrack, ...]
    changed: tuple[str, ...] = ()  # the controls that took effect at this bar


@dataclass
class _Phrase:
    """The composed rest of a section and the next of its bars to play."""

    score: Score
    n_bars: int
    next_bar: int = 0


@dataclass
class _Place:
    section: int = 0  # how many sections have begun before this one (counts on forever)
    bar: int = 0  # bar within it


@dataclass
class LiveSession:
    """Holds the parameters, plan, mutes and position of an endless piece; `next_block`
    renders the next bar (or `block_beats` of it: a short first block comes sooner), with
    every change queued before it heard from the next bar."""

    params: MusicalParameters
    plan: StructuralPlan
    planner: Planner
    seed: int
    sample_rate: int = 44100
    target_lufs: float = -14.0
    muted: frozenset[str] = frozenset()
    block_beats: float | None = None  # None: a block is a whole bar
    _beat: float = 0.0  # where in the bar the next block starts, in beats
    _pending: list[Override] = field(default_factory=list)
    _place: _Place = field(default_factory=_Place)
    _phrase: _Phrase | None = None
    _index: int = 0
    _samples: int = 0
    _renderer: BarRenderer | None = None

    def __post_init__(self) -> None:
        if self.block_beats is not None and not 0 < self.block_beats <= 64:
            raise ParameterError(
                "block_beats must be more than 0 and at most 64 beats", field="block_beats"
            )

    def change(self, override: Override) -> None:
        """Queue a control for the next bar; a bad value raises ParameterError now and
        nothing is queued."""
        params, muted = self.params, self.muted
        for queued in self._pending:
            params, muted = applied(params, muted, queued)
        applied(params, muted, override)
        self._pending.append(override)

    def drop_pending(self) -> None:
        """Forget the changes queued and not yet taken effect."""
        self._pending.clear()

    @property
    def seconds(self) -> float:
        """Playing time rendered so far."""
        return self._samples / self.sample_rate

    @property
    def bar_seconds(self) -> float:
        """The length of the next bar at the current tempo and meter."""
        return self._beats_per_bar() * 60.0 / self.params.tempo_bpm

    def next_block(self) -> LiveBlock:
        """Render the next block: a bar, or `block_beats` of it; the changes queued before
        a bar are taken at its start."""
        changed = self._take_changes() if self._beat == 0 else ()
        kb = load_knowledge()
        phrase = self._phrase_now()
        score = phrase.score
        bpb = score.beats_per_bar
        spb = score.seconds_per_beat
        start = self._beat
        end = min(bpb, start + (self.block_beats or bpb))
        first = phrase.next_bar * bpb
        tracks = _bar_tracks(score, first + start, first + end)
        heard = [t for t in tracks if t.role not in self.muted]
        energy = score.sections[0].energy_level
        # sample positions within the bar, so a bar lasts as long in blocks of any size
        n = round(end * spb * self.sample_rate) - round(start * spb * self.sample_rate)
        production = genre_production(kb, score.genre)
        bar = Bar(
            n_samples=n,
            energy=energy,
            key_pc=pitch_class(split_key(score.key)[0]),
            parts=tuple(_bar_part(kb, score, track, spb) for track in heard),
        )
        rng = np.random.default_rng([self.seed, self._index])
        audio = self._renderer_for().render(bar, production=production, rng=rng)
        block = LiveBlock(
            index=self._index,
            start_s=self.seconds,
            audio=audio,
            tempo_bpm=score.tempo_bpm,
            time_signature=score.time_signature,
            key=score.key,
            energy=energy,
            section=score.sections[0].name,
            beats=end - start,
            tracks=tuple(heard),
            changed=changed,
        )
        self._index += 1
        self._samples += n
        self._beat = end
        if end >= bpb - 1e-9:
            self._beat = 0.0
            phrase.next_bar += 1
            self._place.bar += 1
        return block

    def _renderer_for(self) -> BarRenderer:
        if self._renderer is None:
            self._renderer = BarRenderer(sample_rate=self.sample_rate, target_lufs=self.target_lufs)
        return self._renderer

    def _beats_per_bar(self) -> float:
        num, den = split_meter(self.params.time_signature)
        return num * 4.0 / den

    def _take_changes(self) -> tuple[str, ...]:
        """Apply the queued changes; a change of parameters re-plans and drops what was
        composed ahead, so the next bar is composed with them."""
        if not self._pending:
            return ()
        params, muted = self.params, self.muted
        for override in self._pending:
            params, muted = applied(params, muted, override)
        names = tuple(dict.fromkeys(o.name for o in self._pending))
        self._pending.clear()
        self.muted = muted
        if params != self.params:
            playing = self._section_now()
            self.params = params
            self.plan = self.planner(params)
            self._phrase = None
            self._go_on_in(playing)
        return names

    def _section_now(self) -> str:
        """The name of the section the next bar belongs to."""
        fitted, sizes = self._sections()
        return fitted[self._place.section % len(sizes)][0]

    def _go_on_in(self, name: str) -> None:
        """After a new plan, carry on in the section of that name where it has one (the
        next bar is then its next bar), else where the count of sections says."""
        fitted, _ = self._sections()
        names = [section[0] for section in fitted]
        if name in names:
            here = self._place.section % len(names)
            self._place.section += (names.index(name) - here) % len(names)

    def _sections(self) -> tuple[list[tuple[str, float, float]], list[int]]:
        """The plan's sections (name, ratio, energy) and their bars in a piece of the
        parameters' duration."""
        p = self.params
        n_bars = bars_in(p.time_signature, p.tempo_bpm, p.duration_seconds)
        sections = [(s.name, s.duration_ratio, s.energy_level) for s in self.plan.sections]
        return fit_sections(sections, max(n_bars, len(sections)))

    def _phrase_now(self) -> _Phrase:
        """The phrase holding the next bar, composed when the timeline reaches it."""
        if self._phrase is not None and self._phrase.next_bar < self._phrase.n_bars:
            return self._phrase
        fitted, sizes = self._sections()
        place = self._place
        while place.bar >= sizes[place.section % len(sizes)]:
            place.section, place.bar = place.section + 1, 0
        which = place.section % len(sizes)
        n_bars = sizes[which] - place.bar
        name, _, energy = fitted[which]
        self._phrase = _Phrase(self._compose(name, energy, n_bars), n_bars)
        return self._phrase

    def _compose(self, name: str, energy: float, n_bars: int) -> Score:
        """The next `n_bars` of section `name` (and one more), seeded by its place in the
        timeline."""
        # one bar more than is played: the composer ends a piece on its last bar, and a
        # section of a live piece goes on
        params = self.params.model_copy(
            update={"duration_seconds": (n_bars + 1) * self.bar_seconds}
        )
        section = next((s for s in self.plan.sections if s.name == name), self.plan.sections[0])
        plan = self.plan.model_copy(
            update={
                "sections": [
                    section.model_copy(update={"duration_ratio": 1.0, "energy_level": energy})
                ],
                "transitions": [],
            }
        )
        seed = int(np.random.SeedSequence([self.seed, self._place.section, self._place.bar])
                   .generate_state(1)[0])  # fmt: skip
        return compose(params, plan, seed=seed)


def _bar_tracks(score: Score, first: float, end: float) -> list[PlayedTrack]:
    """Each track's notes that start in [first, end) beats, in beats from `first`."""
    out = []
    eps = 1e-9
    for track in score.tracks:
        notes = tuple(
            n.model_copy(update={"start_beat": max(0.0, n.start_beat - first)})
            for n in track.notes
            if first - eps <= n.start_beat < end - eps
        )
        out.append(
            PlayedTrack(
                track.name, track.instrument, track.role.value, track.program, track.is_drum, notes
            )
        )
    return out


def _bar_part(
    kb: KnowledgeBase, score: Score, track: PlayedTrack, seconds_per_beat: float
) -> BarPart:
    inst = kb.instruments.get(track.instrument)
    notes = track.notes
    pitch, onset, duration, velocity = note_arrays(notes, seconds_per_beat)
    if track.is_drum:
        sound = inst.kit if inst is not None and inst.kit else score.drum_kit
    else:
        sound = inst.timbre if inst is not None and inst.timbre else "piano"
    glides = None if track.is_drum else glide_arrays(notes, seconds_per_beat)
    semitones, seconds = glides if glides is not None else (None, None)
    return BarPart(
        name=track.name,
        role=track.role,
        is_drum=track.is_drum,
        sound=sound,
        pitch=pitch,
        onset_s=onset,
        duration_s=duration,
        velocity=velocity,
        voices=tuple(_DRUM_VOICE_BY_NOTE.get(n.pitch, "snare") for n in notes)
        if track.is_drum
        else (),
        glide_semitones=semitones,
        glide_s=seconds,
    )
