"""Score → audio: synthesize each track to a stem, then mix and master.

The one entry point of the engine's audio half; it reports how long each stage
took and which ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from soundstar.audio.export import SUPPORTED_SAMPLE_RATES
from soundstar.engine.ddsp import render_notes
from soundstar.engine.drums import GM_DRUM_NOTES, render_drum_hits
from soundstar.engine.effects import vinyl_noise
from soundstar.engine.humanise import perform
from soundstar.engine.mixer import MasterGains, StemInput, equalise, mix
from soundstar.engine.options import EngineOptions, Synthesis, synthesis_table
from soundstar.engine.production import Chain, Production, production_for
from soundstar.engine.rave import RaveCodec, rave_status
from soundstar.engine.sampler import SoundFontSampler
from soundstar.engine.timbres import load_timbre
from soundstar.errors import ConfigError, ParameterError, RenderError
from soundstar.knowledge import KnowledgeBase, load_knowledge
from soundstar.models import Score, Track, split_key
from soundstar.theory import pitch_class

ProgressFn = Callable[[str, float], None]

_DRUM_VOICE_BY_NOTE = {note: voice for voice, note in GM_DRUM_NOTES.items()}
_ENVELOPE_CHUNK = 1 << 18
_EQ_BEHIND = True
_PENDING = np.zeros(0, dtype=np.float32)
_VINYL_STREAM = 3000  # the record surface's generator: (seed, this), apart from the tracks'
_KICK_NOTES = frozenset(float(n) for v, n in GM_DRUM_NOTES.items() if v == "kick")


@dataclass
class RenderResult:
    audio: np.ndarray  # (2, n_samples) float32, mastered
    stems: dict[str, np.ndarray]  # track name → (2, n_samples) as it sits in the mix
    sample_rate: int
    lufs: float
    true_peak_dbtp: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    stages_run: list[str] = field(default_factory=list)
    synthesis: dict[str, Synthesis] = field(default_factory=dict)  # track → sampler | ddsp
    rave: dict[str, str] = field(default_factory=dict)  # {"status": "run"|"skipped", "reason"}
    notices: list[str] = field(default_factory=list)  # for the person: fallbacks, skipped stages
    master: MasterGains = field(default_factory=MasterGains)  # the gains the master applied

    @property
    def master_gain_db(self) -> float:
        return self.master.gain_db


def _plan_track(
    track: Track,
    kb: KnowledgeBase,
    options: EngineOptions,
    drum_kit: str,
    production: Production,
) -> tuple[Synthesis, int | None, str, str]:
    """(synthesis wanted, GM kit program, drum kit, DDSP timbre) for one track: from the
    knowledge base, and for the genre's own kit from its production."""
    inst = kb.instruments.get(track.instrument)
    kit = inst.kit if inst is not None and inst.kit else drum_kit
    timbre = inst.timbre if inst is not None and inst.timbre else "piano"
    named = production.drum_kit_program if kit == drum_kit else None
    choice = options.synthesis_for(
        family=inst.family if inst is not None else None,
        program=track.program,
        is_drum=track.is_drum,
        kit=kit,
        kit_program=named,
    )
    program = named if named is not None else synthesis_table().sampled_kits.get(kit)
    return choice, program, kit, timbre


def _production(kb: KnowledgeBase, genre: str | None) -> Production:
    """The production for `genre` and, failing that, for its nearest parent that has one."""
    if genre is not None and genre not in kb.genres:
        raise ParameterError(f"unknown genre {genre!r}", field="genre")
    lineage: list[str] = []
    record = kb.genres.get(genre) if genre else None
    while record is not None and record.id not in lineage:
        lineage.append(record.id)
        record = kb.genres.get(record.parent) if record.parent else None
    return production_for(lineage)


def _note_arrays(track: Track, seconds_per_beat: float) -> tuple[np.ndarray, ...]:
    notes = track.notes
    pitch = np.array([n.pitch for n in notes], dtype=np.float64)
    onset = np.array([n.start_beat for n in notes], dtype=np.float64) * seconds_per_beat
    duration = np.array([n.duration_beats for n in notes], dtype=np.float64) * seconds_per_beat
    velocity = np.array([n.velocity for n in notes], dtype=np.float64) / 127.0
    return pitch, onset, duration, velocity


def _energy_envelope(score: Score, n_samples: int, sample_rate: int) -> np.ndarray:
    """A per-sample 0–1 curve of the plan's section energies, ramped over one beat at each change."""
    spb = score.seconds_per_beat
    bar_beats = score.beats_per_bar
    times: list[float] = []
    values: list[float] = []
    ramp = spb
    for section in score.sections:
        start = section.start_bar * bar_beats * spb
        times.extend([start, start + ramp])
        values.extend([values[-1] if values else section.energy_level, section.energy_level])
    times.append(n_samples / sample_rate)
    values.append(values[-1])
    out = np.empty(n_samples, dtype=np.float32)
    knots_t, knots_v = np.array(times), np.array(values)
    for start in range(0, n_samples, _ENVELOPE_CHUNK):  # chunks: no float64 copy of the track
        t = np.arange(start, min(start + _ENVELOPE_CHUNK, n_samples)) / sample_rate
        out[start : start + t.size] = np.interp(t, knots_t, knots_v)
    return out


def _unique_names(tracks: list[Track]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for track in tracks:
        base = track.name.lower().replace(" ", "_")
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return names


def _load_sampler(
    options: EngineOptions, wanted: bool, sample_rate: int, notices: list[str]
) -> SoundFontSampler | None:
    """The cached SoundFont sampler, or None (with a notice saying why) when DDSP must do."""
    if options.mode == "ddsp":
        return None
    if options.soundfont_path is None:
        notices.append(
            "No General MIDI SoundFont is configured or installed "
            "(fluid-soundfont-gm), so every instrument was synthesized with DDSP."
        )
        return None
    if not wanted:
        return None
    try:
        return SoundFontSampler.load(options.soundfont_path, sample_rate=sample_rate)
    except ConfigError as exc:
        notices.append(f"The SoundFont sampler is unavailable ({exc.message}); DDSP played all.")
        return None


def _sample(
    sampler: SoundFontSampler,
    track: Track,
    kit_program: int | None,
    notes: tuple[np.ndarray, ...],
    n_samples: int,
    notices: list[str],
    key_pc: int,
) -> np.ndarray | None:
    """A track played from the SoundFont at the DDSP presets' level (a kit's kick tuned to
    the key, as the synthesized kits are); None (and a notice) when the SoundFont lacks its
    program, so DDSP plays it instead."""
    table = synthesis_table()
    program = kit_program if track.is_drum and kit_program is not None else track.program
    try:
        audio = sampler.render_notes(
            *notes,
            program=program,
            is_drum=track.is_drum,
            n_samples=n_samples,
            key_pc=key_pc if track.is_drum else None,
        )
    except ParameterError as exc:
        notices.append(f"{track.name}: {exc.message}; it was synthesized with DDSP instead.")
        return None
    audio *= np.float32(10.0 ** (table.gain_db(program, is_drum=track.is_drum) / 20.0))
    return audio


def _run_rave(
    stems_in: list[StemInput], options: EngineOptions, *, sample_rate: int, seed: int
) -> dict[str, str]:
    """Pass the stems of the chosen roles through the RAVE codec, in place; say run or skipped."""
    if options.rave_model_path is None:
        return {"status": "skipped", "reason": "no RAVE model configured (engine.rave_model_path)"}
    chosen = [s for s in stems_in if s.role in options.rave_roles]
    if not chosen:
        roles = ", ".join(options.rave_roles)
        return {"status": "skipped", "reason": f"no stem has a RAVE role ({roles})"}
    runs, why = rave_status(options.rave_model_path)
    if not runs:
        return {"status": "skipped", "reason": why.removeprefix("skipped: ")}
    try:
        codec = RaveCodec.load(options.rave_model_path)
        wet = [
            codec.process(s.audio, sample_rate=sample_rate, mix=options.rave_mix, seed=seed)
            for s in chosen
        ]
    except (ParameterError, RenderError) as exc:
        return {"status": "skipped", "reason": f"RAVE model failed: {exc.message}"}
    for stem, audio in zip(chosen, wet, strict=True):
        stem.audio = audio
    names = ", ".join(s.name for s in chosen)
    return {"status": "run", "reason": f"stems {names} through {codec!r}"}


def _equalise_timed(
    audio: np.ndarray, role: str, chain: Chain, sample_rate: int
) -> tuple[np.ndarray, float]:
    """`equalise` and the seconds it took."""
    start = time.perf_counter()
    out = equalise(audio, role=role, sample_rate=sample_rate, chain=chain)
    return out, time.perf_counter() - start


def _equalise_later(
    pool: ThreadPoolExecutor | None, audio: np.ndarray, role: str, chain: Chain, sample_rate: int
) -> Future[tuple[np.ndarray, float]]:
    """`_equalise_timed` on `pool`, or done here and now without one."""
    if pool is not None:
        return pool.submit(_equalise_timed, audio, role, chain, sample_rate)
    job: Future[tuple[np.ndarray, float]] = Future()
    job.set_result(_equalise_timed(audio, role, chain, sample_rate))
    return job


def _collect(equalising: list[tuple[StemInput, Future[tuple[np.ndarray, float]]]]) -> float:
    """Hand each stem its equalised audio; empties the list (so that the mixer, which frees
    each stem as it goes, holds the only reference) and returns the seconds spent."""
    seconds = 0.0
    for stem, job in equalising:
        stem.audio, spent = job.result()
        stem.equalised = True
        seconds += spent
    equalising.clear()
    return seconds


def _vinyl_stem(production: Production, n_samples: int, sample_rate: int, seed: int) -> StemInput:
    """The record's surface the production lays under the mix, as a dry stem of its own."""
    vinyl = production.vinyl
    if vinyl is None:  # pragma: no cover - the caller checks
        raise ValueError("the production has no vinyl")
    audio = vinyl_noise(
        n_samples, sample_rate=sample_rate, crackles_per_s=vinyl.crackles_per_s,
        crackle_db=vinyl.crackle_db, hiss_db=vinyl.hiss_db,
        rng=np.random.default_rng([seed, _VINYL_STREAM]),
    )  # fmt: skip
    return StemInput(name="vinyl", role="texture", audio=audio, chain=())


def render_score(
    score: Score,
    *,
    sample_rate: int,
    seed: int,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    progress: ProgressFn | None = None,
    options: EngineOptions | None = None,
    master: MasterGains | None = None,
) -> RenderResult:
    """Synthesize every track of `score` and master the mix to the loudness target.

    `options` chooses the synthesis per track (SoundFont sampler or DDSP) and the RAVE
    stage; None renders everything with DDSP and skips RAVE. The score says how it is
    produced: its kit, whether it ducks under the kick, and its style (`score.genre`, a
    knowledge-base genre id), which picks the production of data/mix.yaml: its own, its
    nearest parent's, or the default. The notes are played as that style's players play
    them: off the grid by its humanisation (`humanise.perform`), the same for a seed.
    `master` (a render's `master`) masters with those gains instead of normalising, so a
    part of a piece sits at the level it had in it.
    """
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        raise ParameterError(
            f"sample rate {sample_rate} Hz is not supported; use one of "
            + ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES),
            field="sample_rate",
        )
    options = options or EngineOptions()
    kb = load_knowledge()
    score = perform(score, kb, seed=seed)
    production = _production(kb, score.genre)
    n_samples = round(score.duration_seconds * sample_rate)
    spb = score.seconds_per_beat
    key_pc = pitch_class(split_key(score.key)[0])
    timings: dict[str, float] = {}
    notices: list[str] = []
    stems_in: list[StemInput] = []
    kick_onsets: list[float] = []
    names = _unique_names(score.tracks)
    plans = [_plan_track(track, kb, options, score.drum_kit, production) for track in score.tracks]
    sampler = _load_sampler(options, any(p[0] == "sampler" for p in plans), sample_rate, notices)
    synthesis: dict[str, Synthesis] = {}
    spent = {"ddsp": 0.0, "drums": 0.0, "sampler": 0.0, "eq": 0.0}
    used: set[str] = set()
    # a stem the RAVE stage may still change is equalised by the mixer, after it
    rave_roles = set(options.rave_roles) if options.rave_model_path is not None else set()
    equalising: list[tuple[StemInput, Future[tuple[np.ndarray, float]]]] = []
    t_synth = time.perf_counter()
    # each stem is equalised on a thread (`sosfilt` releases the GIL) while the next one is
    # synthesized; the audio is the same as equalising them one after the other
    with ThreadPoolExecutor(max_workers=1) if _EQ_BEHIND else nullcontext() as eq_pool:
        for index, (track, name, (choice, kit_program, kit, timbre)) in enumerate(
            zip(score.tracks, names, plans, strict=True)
        ):
            rng = np.random.default_rng([seed, 1000 + index])
            notes = _note_arrays(track, spb)
            pitch, onset, duration, velocity = notes
            start = time.perf_counter()
            if track.is_drum:
                kick_onsets.extend(
                    float(o) for o, p in zip(onset, pitch, strict=True) if p in _KICK_NOTES
                )
            sampled = None
            if choice == "sampler" and sampler is not None:
                sampled = _sample(sampler, track, kit_program, notes, n_samples, notices, key_pc)
            if sampled is not None:
                audio, stage = sampled, "sampler"
            elif track.is_drum:
                voices = [_DRUM_VOICE_BY_NOTE.get(int(p), "snare") for p in pitch]
                audio = render_drum_hits(
                    onset, voices, velocity, kit=kit, sample_rate=sample_rate,
                    n_samples=n_samples, rng=rng, key_pc=key_pc,
                )  # fmt: skip
                stage = "drums"
            else:
                audio = render_notes(
                    pitch, onset, duration, velocity, preset=load_timbre(timbre),
                    sample_rate=sample_rate, n_samples=n_samples, rng=rng,
                )  # fmt: skip
                stage = "ddsp"
            spent[stage] += time.perf_counter() - start
            used.add(stage)
            synthesis[name] = "sampler" if stage == "sampler" else "ddsp"
            role = track.role.value
            channel = production.roles[role]  # type: ignore[index]
            stem = StemInput(
                name=name, role=role, audio=audio, pan=channel.pan, gain_db=channel.gain_db,
                reverb_send=channel.reverb_send, chain=channel.chain,
            )  # fmt: skip
            stems_in.append(stem)
            if role not in rave_roles:
                stem.audio = _PENDING  # only the equalised stem is kept
                job = _equalise_later(eq_pool, audio, role, channel.chain, sample_rate)
                equalising.append((stem, job))
            del audio, sampled
            if progress is not None:
                progress("synthesis", (index + 1) / max(1, len(score.tracks)))
        spent["eq"] = _collect(equalising)
    for stage, seconds in spent.items():
        timings[stage] = seconds * 1000
    timings["synthesis"] = (time.perf_counter() - t_synth) * 1000

    if production.vinyl is not None:
        stems_in.append(_vinyl_stem(production, n_samples, sample_rate, seed))
    start = time.perf_counter()
    rave = _run_rave(stems_in, options, sample_rate=sample_rate, seed=seed)
    timings["rave"] = (time.perf_counter() - start) * 1000
    if rave["status"] == "skipped" and options.rave_model_path is not None:
        notices.append(f"The RAVE stage was skipped: {rave['reason']}.")

    start = time.perf_counter()
    mixed = mix(
        stems_in,
        sample_rate=sample_rate,
        energy_envelope=_energy_envelope(score, n_samples, sample_rate),
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        sidechain=score.sidechain and bool(kick_onsets),
        sidechain_onsets_s=np.array(sorted(kick_onsets)) if kick_onsets else None,
        production=production,
        master=master,
    )
    timings["mix"] = (time.perf_counter() - start) * 1000
    if progress is not None:
        progress("mix", 1.0)
    stages: list[str] = [s for s in ("sampler", "ddsp", "drums") if s in used]
    stages += ["rave"] if rave["status"] == "run" else []
    return RenderResult(
        audio=mixed.audio,
        stems=mixed.stems,
        sample_rate=sample_rate,
        lufs=mixed.lufs,
        true_peak_dbtp=mixed.true_peak_dbtp,
        timings_ms=timings,
        stages_run=[*stages, "mix"],
        synthesis=synthesis,
        rave=rave,
        notices=notices,
        master=mixed.master,
    )
