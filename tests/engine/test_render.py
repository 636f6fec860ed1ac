"""render_score: per-track synthesis choice (SoundFont sampler or DDSP), RAVE stage, reports."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from soundstar.config import EngineConfig
from soundstar.engine.humanise import humanise_data
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.production import production_for, production_genres
from soundstar.engine.render import RenderResult, render_score
from soundstar.engine.sampler import SoundFontSampler, find_soundfont
from soundstar.errors import ConfigError, ParameterError
from soundstar.knowledge import load_knowledge
from soundstar.models import Note, Role, Score, ScoreSection, Track

SR = 22050
SF2 = find_soundfont(None)
HAVE_TSF = importlib.util.find_spec("tinysoundfont") is not None
HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_sf2 = pytest.mark.skipif(
    SF2 is None or not HAVE_TSF,
    reason="needs tinysoundfont and a General MIDI SoundFont at /usr/share/sounds/sf2/ "
    "(apt-get install fluid-soundfont-gm)",
)
needs_torch = pytest.mark.skipif(
    not HAVE_TORCH, reason="torch is not installed (optional extra: pip install torch)"
)


def _score() -> Score:
    """Four bars at 120 BPM: piano chords, a synth lead, acoustic-kit drums."""
    chords = [
        Note(pitch=p, start_beat=float(b), duration_beats=1.8, velocity=80)
        for b in range(0, 16, 2)
        for p in (60, 64, 67)
    ]
    lead = [
        Note(pitch=72 + (b % 5), start_beat=b * 0.5, duration_beats=0.45, velocity=90)
        for b in range(32)
    ]
    drums = [
        Note(pitch=36 if b % 2 == 0 else 38, start_beat=float(b), duration_beats=0.25, velocity=100)
        for b in range(16)
    ] + [Note(pitch=42, start_beat=b * 0.5, duration_beats=0.1, velocity=70) for b in range(32)]
    return Score(
        tempo_bpm=120.0,
        time_signature="4/4",
        key="C major",
        total_beats=16.0,
        sections=[ScoreSection(name="a", start_bar=0, end_bar=4, energy_level=0.6)],
        chords=[],
        tracks=[
            Track(name="Piano", instrument="piano", role=Role.CHORDS, program=0, notes=chords),
            Track(
                name="Synth Lead", instrument="synth_lead", role=Role.LEAD, program=81, notes=lead
            ),
            Track(
                name="Drums",
                instrument="acoustic_drums",
                role=Role.DRUMS,
                program=0,
                is_drum=True,
                notes=drums,
            ),
        ],
    )


def _render(options: EngineOptions | None, *, seed: int = 3) -> RenderResult:
    return render_score(_score(), sample_rate=SR, seed=seed, options=options)


def _check_clean(result: RenderResult) -> None:
    assert np.all(np.isfinite(result.audio))
    assert float(np.max(np.abs(result.audio))) <= 1.0
    assert result.true_peak_dbtp <= -1.0 + 0.05


# --------------------------------------------------------------------------- choice


def test_ddsp_mode_renders_every_track_with_ddsp() -> None:
    options = EngineOptions(soundfont_path=SF2, mode="ddsp")
    result = _render(options)
    assert result.synthesis == {"piano": "ddsp", "synth_lead": "ddsp", "drums": "ddsp"}
    assert "sampler" not in result.stages_run
    assert result.notices == []
    _check_clean(result)


def test_without_a_soundfont_everything_is_ddsp_and_a_notice_says_so() -> None:
    result = _render(EngineOptions(soundfont_path=None))
    assert set(result.synthesis.values()) == {"ddsp"}
    assert len(result.notices) == 1 and "SoundFont" in result.notices[0]
    _check_clean(result)


def test_no_options_means_ddsp_and_rave_skipped() -> None:
    result = _render(None)
    assert set(result.synthesis.values()) == {"ddsp"}
    assert result.rave == {
        "status": "skipped",
        "reason": "no RAVE model configured (engine.rave_model_path)",
    }


@pytest.mark.parametrize(
    ("family", "program", "is_drum", "kit", "expected"),
    [
        ("keys", 0, False, None, "sampler"),  # acoustic grand
        ("strings", 48, False, None, "sampler"),  # string ensemble
        ("synth", 50, False, None, "ddsp"),  # synth strings
        ("synth", 81, False, None, "ddsp"),  # saw lead
        ("bass", 38, False, None, "ddsp"),  # synth bass
        ("bass", 32, False, None, "sampler"),  # double bass
        ("drums", 0, True, "acoustic", "sampler"),
        ("drums", 0, True, "brush", "sampler"),
        ("drums", 25, True, "electronic_808", "ddsp"),
        ("drums", 0, True, "lofi", "ddsp"),
    ],
)
def test_auto_mode_samples_acoustic_instruments_only(
    family: str, program: int, is_drum: bool, kit: str | None, expected: str
) -> None:
    options = EngineOptions(soundfont_path=Path("/any.sf2"))
    assert options.synthesis_for(family=family, program=program, is_drum=is_drum, kit=kit) == (
        expected
    )
    ddsp = EngineOptions(soundfont_path=Path("/any.sf2"), mode="ddsp")
    assert ddsp.synthesis_for(family=family, program=program, is_drum=is_drum, kit=kit) == "ddsp"


@needs_sf2
def test_sampler_plays_piano_and_acoustic_drums_ddsp_the_synth() -> None:
    result = _render(EngineOptions(soundfont_path=SF2))
    assert result.synthesis == {"piano": "sampler", "synth_lead": "ddsp", "drums": "sampler"}
    assert result.stages_run[:2] == ["sampler", "ddsp"] and result.stages_run[-1] == "mix"
    assert result.timings_ms["sampler"] > 0
    assert result.notices == []
    assert float(np.sqrt(np.mean(result.stems["piano"] ** 2))) > 1e-3
    _check_clean(result)


def _same_part(a: np.ndarray, b: np.ndarray) -> bool:
    """The same rendered part in two mixes: stems carry their master's gain, which moves a
    little when another part changes, so they match in shape, not sample for sample."""
    return float(np.corrcoef(a.reshape(-1), b.reshape(-1))[0, 1]) > 0.995


@needs_sf2
def test_sampler_and_ddsp_renders_differ() -> None:
    sampled = _render(EngineOptions(soundfont_path=SF2))
    synthesized = _render(EngineOptions(soundfont_path=SF2, mode="ddsp"))
    assert not np.allclose(sampled.stems["piano"], synthesized.stems["piano"])
    assert _same_part(sampled.stems["synth_lead"], synthesized.stems["synth_lead"])


def test_same_seed_same_audio_with_the_sampler() -> None:
    options = EngineOptions(soundfont_path=SF2)
    first, second = _render(options), _render(options)
    np.testing.assert_array_equal(first.audio, second.audio)
    assert not np.array_equal(first.audio, _render(options, seed=4).audio)


@needs_sf2
def test_unreadable_soundfont_falls_back_to_ddsp_with_a_notice(tmp_path: Path) -> None:
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"not a soundfont")
    result = _render(EngineOptions(soundfont_path=bad))
    assert set(result.synthesis.values()) == {"ddsp"}
    assert any("could not be read" in text for text in result.notices)
    _check_clean(result)


@needs_sf2
def test_program_missing_from_the_soundfont_falls_back_to_ddsp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_program(*args: object, **kwargs: object) -> np.ndarray:
        raise ParameterError("SoundFont x.sf2 has no program 0", field="program")

    monkeypatch.setattr(SoundFontSampler, "render_notes", no_program)
    result = _render(EngineOptions(soundfont_path=SF2))
    assert result.synthesis["piano"] == "ddsp"
    assert any("has no program 0" in text for text in result.notices)
    _check_clean(result)


# --------------------------------------------------------------------------- settings


def test_options_from_settings_use_the_standard_soundfont() -> None:
    options = engine_options_from_settings(EngineConfig())
    assert options.soundfont_path == SF2
    assert options.mode == "auto" and options.rave_model_path is None


def test_the_runtime_dependencies_install_the_sampler() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    runtime = [re.split(r"[<>=!~\[ ;]", d)[0] for d in pyproject["project"]["dependencies"]]
    assert "tinysoundfont" in runtime


@pytest.mark.skipif(
    SF2 is None, reason="no General MIDI SoundFont installed (./setup.sh installs one)"
)
def test_with_a_soundfont_installed_the_default_engine_plays_samples() -> None:
    """What a newcomer's first track gets: the runtime install (tinysoundfont is a runtime
    dependency, so its absence fails here) plays acoustic parts from the SoundFont."""
    result = _render(engine_options_from_settings(EngineConfig()))
    assert result.synthesis == {"piano": "sampler", "synth_lead": "ddsp", "drums": "sampler"}
    assert result.notices == []


def test_options_from_settings_reject_missing_configured_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SoundFont"):
        engine_options_from_settings(EngineConfig(soundfont_path=tmp_path / "none.sf2"))
    with pytest.raises(ConfigError, match="RAVE model"):
        engine_options_from_settings(EngineConfig(rave_model_path=tmp_path / "none.ts"))


def test_unknown_rave_role_is_rejected() -> None:
    with pytest.raises(ValueError, match="rave_roles"):
        EngineOptions(rave_roles=("vocals",))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- production


def _lineage(genre: str) -> set[str]:
    kb = load_knowledge()
    chain = {genre}
    while (parent := kb.genres[genre].parent) is not None:
        chain.add(parent)
        genre = parent
    return chain


def _in_style(genre: str) -> Score:
    return _score().model_copy(update={"genre": genre})


def test_a_genre_without_a_production_of_its_own_renders_the_default_mix() -> None:
    own = production_genres() | set(humanise_data().styles)  # the players' feel too
    plain = sorted(g for g in load_knowledge().genres if not _lineage(g) & own)
    assert plain
    np.testing.assert_array_equal(
        render_score(_in_style(plain[0]), sample_rate=SR, seed=3).audio,
        _render(None).audio,
    )


def test_an_unknown_genre_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="unknown genre"):
        render_score(_in_style("no_such"), sample_rate=SR, seed=3)


@pytest.mark.parametrize("genre", sorted(production_genres()))
def test_a_genre_production_mixes_its_own_way(genre: str) -> None:
    own = render_score(_in_style(genre), sample_rate=SR, seed=3)
    _check_clean(own)
    assert not np.array_equal(own.audio, _render(None).audio)


def _with_kit_track(instrument: str, *, genre: str | None) -> Score:
    """The test score in `genre`, on a breakbeat kit, its drum track played on `instrument`."""
    score = _score()
    drums = score.tracks[2].model_copy(update={"instrument": instrument})
    return score.model_copy(
        update={"tracks": [*score.tracks[:2], drums], "drum_kit": "breakbeat", "genre": genre}
    )


@needs_sf2
def test_a_genre_production_plays_its_kit_from_the_soundfonts_gm_kit() -> None:
    """A production that names a GM kit samples the genre's own kit from it, even a kit the
    engine otherwise synthesizes; a kit a track names itself keeps its own sound."""
    genre = next(g for g in sorted(production_genres()) if production_for([g]).drum_kit_program)
    options = EngineOptions(soundfont_path=SF2)
    plain, produced = (
        render_score(
            _with_kit_track("drum_kit", genre=name), sample_rate=SR, seed=3, options=options,
        )
        for name in (None, genre)
    )  # fmt: skip
    assert plain.synthesis["drums"] == "ddsp" and produced.synthesis["drums"] == "sampler"
    _check_clean(produced)
    named = render_score(
        _with_kit_track("drums_808", genre=genre), sample_rate=SR, seed=3, options=options,
    )  # fmt: skip
    assert named.synthesis["drums"] == "ddsp"


# --------------------------------------------------------------------------- RAVE


@needs_torch
def test_rave_runs_on_the_chosen_stems(tmp_path: Path) -> None:
    from tests.engine.rave_fixture import build_codec

    model = build_codec(tmp_path / "tiny.ts", sr=16000, ratio=64)
    options = EngineOptions(rave_model_path=model, rave_roles=("lead",))
    result = _render(options)
    assert result.rave["status"] == "run" and "synth_lead" in result.rave["reason"]
    assert "rave" in result.stages_run
    plain = _render(EngineOptions())
    assert not np.allclose(result.stems["synth_lead"], plain.stems["synth_lead"])
    assert _same_part(result.stems["piano"], plain.stems["piano"])
    np.testing.assert_array_equal(result.audio, _render(options).audio)
    _check_clean(result)


@needs_torch
def test_rave_is_skipped_when_no_stem_has_its_role(tmp_path: Path) -> None:
    from tests.engine.rave_fixture import build_codec

    model = build_codec(tmp_path / "tiny.ts", sr=16000, ratio=64)
    result = _render(EngineOptions(rave_model_path=model, rave_roles=("pad",)))
    assert result.rave == {"status": "skipped", "reason": "no stem has a RAVE role (pad)"}
    assert "rave" not in result.stages_run
    assert any("RAVE" in text for text in result.notices)


def test_rave_with_an_invalid_model_is_skipped_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ts"
    bad.write_bytes(b"not torchscript")
    result = _render(EngineOptions(rave_model_path=bad))
    assert result.rave["status"] == "skipped"
    reason = "torch is not installed" if not HAVE_TORCH else "invalid RAVE model"
    assert reason in result.rave["reason"]
    assert "rave" not in result.stages_run
    _check_clean(result)
