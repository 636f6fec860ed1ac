"""Chord tones placed in a register, and voice-led voicings."""

from __future__ import annotations

from soundstar.theory import Chord, parse_chord


def nearest_pitch(pc: int, target: float, lo: int, hi: int) -> int:
    """The pitch of class `pc` nearest to `target`, inside [lo, hi] when possible."""
    candidates = [p for p in range(max(0, lo), min(127, hi) + 1) if p % 12 == pc]
    if not candidates:
        base = round(target)
        candidates = [base - ((base - pc) % 12), base - ((base - pc) % 12) + 12]
    return min(candidates, key=lambda p: (abs(p - target), p))


def nearest_chord_tone(pitch: int, chord: Chord, lo: int, hi: int) -> int:
    """The tone of `chord` nearest to `pitch`, inside [lo, hi] when possible."""
    return min(
        (nearest_pitch(pc, pitch, lo, hi) for pc in chord.pitch_classes),
        key=lambda p: abs(p - pitch),
    )


def into_register(pitch: int, lo: int, hi: int) -> int:
    """The same pitch class moved by octaves into [lo, hi] (as near as it goes)."""
    while pitch < lo and pitch + 12 <= 127:
        pitch += 12
    while pitch > hi and pitch - 12 >= max(lo, 0):
        pitch -= 12
    return pitch


def bass_root(chord: Chord, lo: int, hi: int) -> int:
    """The chord's bass note in the lower part of the register."""
    return nearest_pitch(chord.bass_pc, lo + 5, lo, hi)


def voicing_candidates(
    chord: Chord, lo: int, hi: int, n_voices: int, added: tuple[int, ...] = ()
) -> list[tuple[int, ...]]:
    """Close-position voicings (every inversion) whose notes fit in [lo, hi]; `added`
    pitch classes (a held tone) join the chord's own."""
    pcs = list(chord.pitch_classes) + [pc for pc in added if pc not in chord.pitch_classes]
    if len(pcs) > n_voices:
        # Drop the fifth first: it adds least to the chord's colour.
        fifth = (chord.root_pc + 7) % 12
        if fifth in pcs and len(pcs) > 3:
            pcs.remove(fifth)
        pcs = pcs[:n_voices]
    result = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base in range(lo, hi - 11):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                nxt = notes[-1] + ((pc - notes[-1]) % 12 or 12)
                notes.append(nxt)
            if notes[-1] <= hi:
                result.append(tuple(notes))
    return result


def voice_lead(
    symbol: str,
    previous: tuple[int, ...] | None,
    lo: int,
    hi: int,
    n_voices: int = 4,
    added: tuple[int, ...] = (),
) -> tuple[int, ...]:
    """A voicing of `symbol` (plus any `added` pitch classes) that moves as little as
    possible from `previous`."""
    chord = parse_chord(symbol)
    candidates = voicing_candidates(chord, lo, hi, n_voices, added)
    if not candidates:
        root = nearest_pitch(chord.root_pc, (lo + hi) / 2, lo, hi)
        return tuple(root + i for i in chord.intervals[:n_voices])
    centre = (lo + hi) / 2
    if previous is None:
        return min(candidates, key=lambda v: abs(sum(v) / len(v) - centre))
    prev_mean = sum(previous) / len(previous)

    def cost(v: tuple[int, ...]) -> float:
        moved = sum(min(abs(p - q) for q in previous) for p in v)
        return moved + 0.3 * abs(sum(v) / len(v) - centre) + 0.1 * abs(sum(v) / len(v) - prev_mean)

    return min(candidates, key=cost)


def power_chord(symbol: str, previous: tuple[int, ...] | None, lo: int, hi: int) -> tuple[int, ...]:
    """Root, fifth and octave of `symbol`, the root near the previous one: what a
    distorted guitar plays, since distortion turns a third into a cluster of difference
    tones while a fifth stays clean. The fifth is the chord's own (diminished in "Bdim");
    a slash chord's bass is left to the bass, as a fifth built on it ("G5" for "C/G")
    would sound a tone the chord does not hold."""
    chord = parse_chord(symbol)
    target = previous[0] if previous else lo + 4
    root = nearest_pitch(chord.root_pc, target, lo, max(lo, hi - 12))
    fifth = next((step for step in (7, 6, 8) if step in chord.intervals), 7)
    return (root, root + fifth, root + 12)
