"""A live session: changes wait for the next bar and every bar after follows them; the
bars before are as they would have been; mutes silence a role; bad changes queue nothing."""

from __future__ import annotations

import numpy as np
import pytest

from soundstar.aurora.pipeline import Aurora
from soundstar.errors import ParameterError
from soundstar.live.changes import parse_change, read_control
from soundstar.live.play import play, start_session
from soundstar.live.session import LiveSession

PROMPT = "an upbeat synthwave track with pulsing bass, drums and dreamy pads"


@pytest.fixture(scope="module")
def aurora() -> Aurora:
    return Aurora()


def _session(aurora: Aurora) -> LiveSession:
    return start_session(aurora, PROMPT, seed=5, sample_rate=22050)


def test_a_change_is_heard_from_the_first_bar_at_or_after_its_time(aurora: Aurora) -> None:
    changes = [parse_change("5:tempo_bpm=150"), parse_change("5:energy_level=0.2")]
    blocks = list(play(_session(aurora), 16.0, changes))
    first_after = next(i for i, b in enumerate(blocks) if b.start_s >= 5.0)
    assert blocks[first_after].changed == ("tempo_bpm", "energy_level")
    assert all(b.tempo_bpm != 150 for b in blocks[:first_after])
    assert all(b.tempo_bpm == 150 for b in blocks[first_after:])
    assert sum(b.audio.shape[1] for b in blocks) / 22050 >= 16.0


def test_bars_before_a_change_are_those_played_without_it(aurora: Aurora) -> None:
    plain = list(play(_session(aurora), 8.0))
    changed = list(play(_session(aurora), 8.0, [parse_change("6:key=F# minor")]))
    before = [i for i, b in enumerate(changed) if b.start_s < 6.0]
    for i in before:
        np.testing.assert_array_equal(plain[i].audio, changed[i].audio)
    assert changed[before[-1] + 1].key == "F# minor" != plain[before[-1] + 1].key


def test_mute_silences_a_role_until_unmuted(aurora: Aurora) -> None:
    session = _session(aurora)
    roles = {t.role for t in session.next_block().tracks}
    assert "drums" in roles
    session.change(read_control("mute=drums,bass"))
    muted = session.next_block()
    assert {t.role for t in muted.tracks} == roles - {"drums", "bass"}
    session.change(read_control("mute="))
    assert {t.role for t in session.next_block().tracks} == roles


def test_the_sections_repeat_for_as_long_as_it_plays(aurora: Aurora) -> None:
    session = _session(aurora)
    names = [session.next_block().section for _ in range(40)]
    order = list(dict.fromkeys(names))
    assert len(order) >= 2
    assert names.count(order[0]) < len(names)  # a later section comes
    assert names[-1] in order and names.index(order[-1]) < 40
    starts = [i for i in range(1, 40) if names[i] == order[0] and names[i - 1] != order[0]]
    assert starts, "the first section comes round again"


@pytest.mark.parametrize(
    "text", ["tempo_bpm=20", "key=H major", "mute=vocals", "instruments=kazoo-ish-thing"]
)
def test_a_bad_value_raises_and_queues_nothing(aurora: Aurora, text: str) -> None:
    session = _session(aurora)
    with pytest.raises(ParameterError):
        session.change(read_control(text))
    block = session.next_block()
    assert block.changed == ()


@pytest.mark.parametrize(
    "text",
    [
        "x:tempo_bpm=100",
        "-1:tempo_bpm=100",
        "3:sections.1.energy=1",
        "3:duration_seconds=20",
        "3:tempo_bpm",
    ],
)
def test_a_bad_change_is_refused_naming_what_is_allowed(text: str) -> None:
    with pytest.raises(ParameterError) as err:
        parse_change(text)
    assert "T:NAME=VALUE" in err.value.message or "tempo_bpm" in err.value.message


def test_a_change_mid_section_carries_on_in_that_section(aurora: Aurora) -> None:
    session = _session(aurora)
    blocks = [session.next_block() for _ in range(3)]
    while not (blocks[-1].section == blocks[-2].section != blocks[-3].section):
        blocks.append(session.next_block())  # the second bar of a section
    session.change(read_control("tempo_bpm=90"))
    session.change(read_control("energy_level=0.3"))
    after = session.next_block()
    assert after.tempo_bpm == 90 and after.section == blocks[-1].section


def test_instruments_changed_are_the_lineup_from_the_next_bar(aurora: Aurora) -> None:
    session = _session(aurora)
    before = {t.instrument for t in session.next_block().tracks}
    session.change(read_control("instruments=piano,cello"))
    after = {t.instrument for t in session.next_block().tracks}
    assert after != before and after <= {"piano", "cello"} and after


def test_blocks_of_a_beat_play_the_bars_notes_and_lengths_with_changes_at_bar_lines(
    aurora: Aurora,
) -> None:
    bars = _session(aurora)
    beats = start_session(aurora, PROMPT, seed=5, sample_rate=22050, block_beats=1)
    whole = [bars.next_block() for _ in range(3)]
    beats.change(read_control("tempo_bpm=150"))
    parts = [beats.next_block() for _ in range(5)]  # the first bar and a beat of the next
    beats.change(read_control("tempo_bpm=90"))
    parts += [beats.next_block() for _ in range(3)]  # mid-bar: the change waits
    assert [p.beats for p in parts] == [1.0] * 8 and parts[0].changed == ("tempo_bpm",)
    assert all(p.tempo_bpm == 150 for p in parts) and all(not p.changed for p in parts[1:])
    assert beats.next_block().changed == ("tempo_bpm",)
    plain = _session(aurora)
    plain.change(read_control("tempo_bpm=150"))
    first_bar = plain.next_block()
    notes = sorted(
        (t.name, n.pitch, round(n.start_beat + i, 6))
        for i, p in enumerate(parts[:4]) for t in p.tracks for n in t.notes
    )  # fmt: skip
    assert notes == sorted(
        (t.name, n.pitch, round(n.start_beat, 6)) for t in first_bar.tracks for n in t.notes
    )
    assert sum(p.audio.shape[1] for p in parts[:4]) == first_bar.audio.shape[1]
    assert whole[0].beats == 4.0


def test_a_block_size_out_of_range_is_refused(aurora: Aurora) -> None:
    with pytest.raises(ParameterError):
        start_session(aurora, PROMPT, seed=1, block_beats=0)
