"""Score → audio: synthesize each track to a stem, then mix and master.

The one entry point of the engine's audio half; it reports how long each stage
took and which ran.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from soundstar.audio.export import SUPPORTED_SAMPLE_RATES
from soundstar.engine.blockmix import EnergyCurve, SpooledStem, chain_spool, mix_spooled
from soundstar.engine.blocks import PlayFn, TrackBlocks, block_edges
from soundstar.engine.ddsp import render_notes
from soundstar.engine.drums import GM_DRUM_NOTES, drum_draws, hat_onsets, render_drum_hits
from soundstar.engine.effects import duck_knots, vinyl_noise
from soundstar.engine.humanise import perform
from soundstar.engine.master import CHUNK, MasterGains
from soundstar.engine.mixer import StemInput
from soundstar.engine.note_arrays import Glides, glide_arrays, note_arrays
from soundstar.engine.options import EngineOptions, Synthesis, synthesis_table
from soundstar.engine.production import Chain, Production, Vinyl, genre_production
from soundstar.engine.rave import RaveCodec, rave_status
from soundstar.engine.sampler import SoundFontSampler
from soundstar.engine.spool import BlockAudio, Spool, spool_of
from soundstar.engine.timbres import load_timbre
from soundstar.errors import ConfigError, ParameterError, RenderError
from soundstar.knowledge import KnowledgeBase, load_knowledge
from soundstar.models import Score, Track, split_key
from soundstar.theory import pitch_class

ProgressFn = Callable[[str, float], None]

_DRUM_VOICE_BY_NOTE = {note: voice for voice, note in GM_DRUM_NOTES.items()}
_SAMPLED_TAIL_S = 3.0  # what a SoundFont note or a drum hit may sound past its end
_VINYL_STREAM = 3000  # the record surface's generators: (seed, this, segment)
_KICK_NOTES = frozenset(float(n) for v, n in GM_DRUM_NOTES.items() if v == "kick")


@dataclass
class RenderResult:
    """A render: the master lives in a spool (in memory within the spools' budget, else in
    a file) and each stem is read from spools a block at a time; `audio` gives the master
    as an array and `stems`
    reads every stem whole (for callers that want arrays). `master_gains` is what the
    master applied: given back to `render_score`, a part of the piece is mastered alike."""

    master_audio: BlockAudio  # (2, n_samples) float32, mastered
    stem_audio: dict[str, BlockAudio]  # track name → (2, n_samples) as it sits in the mix
    sample_rate: int
    lufs: float
    true_peak_dbtp: float
    master_gains: MasterGains = field(default_factory=MasterGains)
    timings_ms: dict[str, float] = field(default_factory=dict)
    stages_run: list[str] = field(default_factory=list)
    synthesis: dict[str, Synthesis] = field(default_factory=dict)  # track → sampler | ddsp
    rave: dict[str, str] = field(default_factory=dict)  # {"status": "run"|"skipped", "reason"}
    notices: list[str] = field(default_factory=list)  # for the person: fallbacks, skipped stages

    @property
    def master_gain_db(self) -> float:
        """The level gain the master applied (normalisation, or the gains given)."""
        return self.master_gains.gain_db

    @property
    def audio(self) -> np.ndarray:
        return self.master_audio.array()

    @property
    def stems(self) -> dict[str, np.ndarray]:
        return {name: stem.array() for name, stem in self.stem_audio.items()}


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
    return genre_production(kb, genre)


def _picked_glides(
    glides: Glides | None, picked: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The glides of the notes a block plays (None, None where the track has none)."""
    if glides is None:
        return None, None
    return glides[0][picked], glides[1][picked]


def _energy_curve(score: Score, production: Production) -> EnergyCurve:
    """The plan's section energies as a curve, ramped over one beat at each change."""
    spb = score.seconds_per_beat
    times: list[float] = []
    values: list[float] = []
    for section in score.sections:
        start = section.start_bar * score.beats_per_bar * spb
        times.extend([start, start + spb])
        values.extend([values[-1] if values else section.energy_level, section.energy_level])
    times.append(score.duration_seconds)
    values.append(values[-1])
    return EnergyCurve(np.array(times), np.array(values), production.energy_range_db)


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


def _sampler_player(
    sampler: SoundFontSampler,
    track: Track,
    kit_program: int | None,
    notes: tuple[np.ndarray, ...],
    notices: list[str],
    key_pc: int,
    glides: Glides | None = None,
) -> PlayFn | None:
    """A track played from the SoundFont at the DDSP presets' level (a kit's kick tuned to
    the key, as the synthesized kits are); None (and a notice) when the SoundFont lacks its
    program, so DDSP plays it instead."""
    table = synthesis_table()
    program = kit_program if track.is_drum and kit_program is not None else track.program
    pitch, onset, duration, velocity = notes
    level = np.float32(10.0 ** (table.gain_db(program, is_drum=track.is_drum) / 20.0))
    tuned = key_pc if track.is_drum else None

    def play(picked: np.ndarray, first: int, n: int) -> np.ndarray:
        semitones, seconds = _picked_glides(glides, picked)
        audio = sampler.render_notes(
            pitch[picked], onset[picked], duration[picked], velocity[picked],
            program=program, is_drum=track.is_drum, n_samples=n, key_pc=tuned, first_sample=first,
            glide_semitones=semitones, glide_s=seconds,
        )  # fmt: skip
        audio *= level
        return audio

    try:  # a first note, short, tells whether the SoundFont has the program
        play(
            np.zeros(1, dtype=np.int64), round(float(onset[0]) * sampler.sample_rate), 1
        ) if onset.size else None
    except ParameterError as exc:
        notices.append(f"{track.name}: {exc.message}; it was synthesized with DDSP instead.")
        return None
    return play


def _drum_player(
    notes: tuple[np.ndarray, ...], kit: str, sample_rate: int, rng: np.random.Generator, key_pc: int
) -> PlayFn:
    pitch, onset, _, velocity = notes
    voices = [_DRUM_VOICE_BY_NOTE.get(int(p), "snare") for p in pitch]
    variants, jitter = drum_draws(rng, onset.size)
    hats = hat_onsets(onset, voices)

    def play(picked: np.ndarray, first: int, n: int) -> np.ndarray:
        return render_drum_hits(
            onset[picked], [voices[i] for i in picked], velocity[picked], kit=kit,
            sample_rate=sample_rate, n_samples=n, rng=rng, key_pc=key_pc,
            draws=(variants[picked], jitter[picked]), hat_times_s=hats, first_sample=first,
        )  # fmt: skip

    return play


def _ddsp_player(
    notes: tuple[np.ndarray, ...],
    timbre: str,
    sample_rate: int,
    rng: np.random.Generator,
    glides: Glides | None = None,
) -> tuple[PlayFn, int]:
    """The DDSP player of a track and the samples its release sounds past a note."""
    pitch, onset, duration, velocity = notes
    preset = load_timbre(timbre)

    def play(picked: np.ndarray, first: int, n: int) -> np.ndarray:
        semitones, seconds = _picked_glides(glides, picked)
        return render_notes(
            pitch[picked], onset[picked], duration[picked], velocity[picked],
            preset=preset, sample_rate=sample_rate, n_samples=n, rng=rng, first_sample=first,
            glide_semitones=semitones, glide_s=seconds,
        )  # fmt: skip

    return play, max(int(preset.release_s * sample_rate), int(0.012 * sample_rate)) + 1


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


def _chain_timed(audio: Spool, chain: Chain, sample_rate: int) -> tuple[Spool, float]:
    """`chain_spool` and the seconds it took."""
    start = time.perf_counter()
    return chain_spool(audio, chain, sample_rate=sample_rate), time.perf_counter() - start


def _rave_spools(
    raw: list[Spool],
    names: list[str],
    roles: list[str],
    options: EngineOptions,
    *,
    sample_rate: int,
    seed: int,
) -> dict[str, str]:
    """`_run_rave` on the spooled stems of its roles (read whole: the codec takes a stem at
    once), each written back to its spool."""
    chosen = [i for i, role in enumerate(roles) if role in options.rave_roles]
    if options.rave_model_path is None or not chosen:
        return _run_rave([], options, sample_rate=sample_rate, seed=seed)
    stems = [
        StemInput(name=names[i], role=roles[i], audio=np.array(raw[i].array()[0])) for i in chosen
    ]
    rave = _run_rave(stems, options, sample_rate=sample_rate, seed=seed)
    for i, stem in zip(chosen, stems, strict=True):
        raw[i] = spool_of(np.asarray(stem.audio, dtype=np.float32))
    return rave


def _vinyl_spool(vinyl: Vinyl, n_samples: int, sample_rate: int, seed: int) -> Spool:
    """The record's surface a production lays under the mix, a dry mono stem of its own:
    made in segments of `CHUNK` samples, each from its own generator, so it is the same
    for a seed whatever the blocks and takes no memory with length."""
    out = Spool(1, expected_samples=n_samples)
    for index, start in enumerate(range(0, n_samples, CHUNK)):
        surface = vinyl_noise(
            min(CHUNK, n_samples - start), sample_rate=sample_rate,
            crackles_per_s=vinyl.crackles_per_s, crackle_db=vinyl.crackle_db,
            hiss_db=vinyl.hiss_db, rng=np.random.default_rng([seed, _VINYL_STREAM, index]),
        )  # fmt: skip
        out.append(surface)
    return out


def render_score(
    score: Score,
    *,
    sample_rate: int,
    seed: int,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    progress: ProgressFn | None = None,
    options: EngineOptions | None = None,
    bars_per_block: int | None = None,
    master_gains: MasterGains | None = None,
) -> RenderResult:
    """Synthesize every track of `score` and master the mix to the loudness target.

    `options` chooses the synthesis per track (SoundFont sampler or DDSP) and the RAVE
    stage; None renders everything with DDSP and skips RAVE. The score says how it is
    produced: its kit, whether it ducks under the kick, and its style (`score.genre`, a
    knowledge-base genre id), which picks the production of data/mix.yaml: its own, its
    nearest parent's, or the default. The notes are played as that style's players play
    them: off the grid by its humanisation (`humanise.perform`), the same for a seed.
    `master_gains` (a render's `master_gains`) masters with those gains instead of
    normalising, so a part of a piece sits at the level it had in it.

    Every stage works a block of bars at a time (`bars_per_block`; default: blocks of
    about 8 s) and keeps its audio in spools on disk, so memory does not grow with length.
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
    kick_onsets: list[float] = []
    names = _unique_names(score.tracks)
    plans = [_plan_track(track, kb, options, score.drum_kit, production) for track in score.tracks]
    sampler = _load_sampler(options, any(p[0] == "sampler" for p in plans), sample_rate, notices)
    synthesis: dict[str, Synthesis] = {}
    spent = {"ddsp": 0.0, "drums": 0.0, "sampler": 0.0, "eq": 0.0}
    used: set[str] = set()
    edges = block_edges(
        n_samples=n_samples, bar_seconds=score.beats_per_bar * spb, sample_rate=sample_rate,
        bars_per_block=bars_per_block,
    )  # fmt: skip
    raw: list[Spool] = []
    roles = [track.role.value for track in score.tracks]
    # a stem is chained on a thread (`sosfilt` releases the GIL) while the next is
    # synthesized; one the RAVE stage may still change is chained after it
    rave_roles = set(options.rave_roles) if options.rave_model_path is not None else set()
    chaining: dict[int, Future[tuple[Spool, float]]] = {}
    pool = ThreadPoolExecutor(max_workers=1)
    for index, (track, name, (choice, kit_program, kit, timbre)) in enumerate(
        zip(score.tracks, names, plans, strict=True)
    ):
        rng = np.random.default_rng([seed, 1000 + index])
        notes = note_arrays(track.notes, spb)
        glides = None if track.is_drum else glide_arrays(track.notes, spb)
        pitch, onset, duration, _ = notes
        start = time.perf_counter()
        if track.is_drum:
            kick_onsets.extend(
                float(o) for o, p in zip(onset, pitch, strict=True) if p in _KICK_NOTES
            )
        play = None
        tail = round(_SAMPLED_TAIL_S * sample_rate)
        if choice == "sampler" and sampler is not None:
            play = _sampler_player(sampler, track, kit_program, notes, notices, key_pc, glides)
            stage = "sampler"
        if play is None and track.is_drum:
            play, stage = _drum_player(notes, kit, sample_rate, rng, key_pc), "drums"
        elif play is None:
            (play, tail), stage = _ddsp_player(notes, timbre, sample_rate, rng, glides), "ddsp"
        voice = TrackBlocks(
            onset, onset + duration, play=play, tail_samples=tail, n_samples=n_samples,
            sample_rate=sample_rate,
        )  # fmt: skip
        spool = Spool(1, expected_samples=n_samples)
        for block_start, block_stop in itertools.pairwise(edges):
            spool.append(voice.render_block(block_start, block_stop))
        raw.append(spool)
        if roles[index] not in rave_roles:
            chain = production.roles[roles[index]].chain  # type: ignore[index]
            chaining[index] = pool.submit(_chain_timed, spool, chain, sample_rate)
        spent[stage] += time.perf_counter() - start
        used.add(stage)
        synthesis[name] = "sampler" if stage == "sampler" else "ddsp"
        if progress is not None:
            progress("synthesis", (index + 1) / max(1, len(score.tracks)))
    timings["synthesis"] = sum(spent.values()) * 1000

    start = time.perf_counter()
    rave = _rave_spools(raw, names, roles, options, sample_rate=sample_rate, seed=seed)
    timings["rave"] = (time.perf_counter() - start) * 1000
    if rave["status"] == "skipped" and options.rave_model_path is not None:
        notices.append(f"The RAVE stage was skipped: {rave['reason']}.")

    start = time.perf_counter()
    stems: list[SpooledStem] = []
    for index, (name, role, audio) in enumerate(zip(names, roles, raw, strict=True)):
        channel = production.roles[role]  # type: ignore[index]
        job = chaining.get(index) or pool.submit(_chain_timed, audio, channel.chain, sample_rate)
        chained, seconds = job.result()
        spent["eq"] += seconds
        stems.append(
            SpooledStem(
                name=name, role=role, pan=channel.pan,
                gain_db=channel.gain_for(featured=score.tracks[index].featured),
                reverb_send=channel.reverb_send, ducked=channel.ducked, audio=chained,
            )
        )  # fmt: skip
    pool.shutdown()
    del raw, chaining
    if production.vinyl is not None:
        stems.append(
            SpooledStem(
                name="vinyl", role="texture",
                audio=_vinyl_spool(production.vinyl, n_samples, sample_rate, seed),
            )
        )  # fmt: skip
    duck = None
    if score.sidechain and kick_onsets:
        duck = duck_knots(
            n_samples=n_samples, sample_rate=sample_rate,
            depth_db=production.sidechain.depth_db, release_ms=production.sidechain.release_ms,
            onsets_s=np.array(sorted(kick_onsets)),
        )  # fmt: skip
    mixed = mix_spooled(
        stems, sample_rate=sample_rate, n_samples=n_samples, energy=_energy_curve(score, production),
        duck=duck, production=production, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp,
        fixed=master_gains,
    )  # fmt: skip
    for stage, seconds in spent.items():
        timings[stage] = seconds * 1000
    timings["mix"] = (time.perf_counter() - start) * 1000
    if progress is not None:
        progress("mix", 1.0)
    stages: list[str] = [s for s in ("sampler", "ddsp", "drums") if s in used]
    stages += ["rave"] if rave["status"] == "run" else []
    return RenderResult(
        master_audio=mixed.mastered.audio,
        stem_audio=mixed.stems,
        sample_rate=sample_rate,
        lufs=mixed.mastered.lufs,
        true_peak_dbtp=mixed.mastered.true_peak_dbtp,
        master_gains=mixed.mastered.gains,
        timings_ms=timings,
        stages_run=[*stages, "mix"],
        synthesis=synthesis,
        rave=rave,
        notices=notices,
    )
