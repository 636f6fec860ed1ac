"""The unified control embedding (spec v2 §6.2 stage 5; DESIGN.md `encoder`).

Soundstar has no trained encoder to download, so the embedding is built from
the knowledge base by construction, with the property the spec needs: similar
music gives nearby vectors. Categorical values (genre, mood, instrument,
structure) are deterministic pseudo-random unit vectors seeded by their ids,
mixed with their parents and families so relatives share direction; numeric
values (tempo, energy, valence/arousal) are smooth radial-basis codes, so
nearby numbers give nearby codes. Guidance and control come from fixed,
seeded projections, identical on every machine.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np

from soundstar.errors import ParameterError
from soundstar.knowledge import KnowledgeBase, load_knowledge, normalize
from soundstar.models import (
    CONTROL_DIM,
    EMBEDDING_SLICES,
    GUIDANCE_DIM,
    UNIFIED_DIM,
    ControlEmbedding,
    MusicalParameters,
    StructuralPlan,
    split_meter,
)
from soundstar.theory import pitch_class

TEMPO_NORM_RANGE = (60.0, 200.0)  # spec: (bpm - 60) / (200 - 60)
_LINEAGE_DECAY = 0.6


def _seed(token: str) -> int:
    return int.from_bytes(hashlib.sha256(token.encode("utf-8")).digest()[:8], "little")


@lru_cache(maxsize=8192)
def token_vector(token: str, dim: int) -> np.ndarray:
    """A fixed unit vector for a token: the same on every machine and run."""
    vec = np.random.default_rng(_seed(token)).standard_normal(dim)
    vec /= np.linalg.norm(vec)
    vec.setflags(write=False)
    return vec


def rbf_code(
    value: float, dim: int, *, lo: float = 0.0, hi: float = 1.0, width: float | None = None
) -> np.ndarray:
    """A smooth code of a number: Gaussian bumps at `dim` centres across [lo, hi], unit norm."""
    centres = np.linspace(lo, hi, dim)
    sigma = width if width is not None else (hi - lo) / dim * 1.5
    code = np.exp(-0.5 * ((np.clip(value, lo, hi) - centres) / sigma) ** 2)
    return np.asarray(code / np.linalg.norm(code), dtype=np.float64)


def _unit(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def tempo_normalized(bpm: float) -> float:
    lo, hi = TEMPO_NORM_RANGE
    return float(np.clip((bpm - lo) / (hi - lo), 0.0, 1.0))


def genre_embedding(kb: KnowledgeBase, genre_name: str | None, dim: int = 128) -> np.ndarray:
    """The genre's own direction mixed with its ancestors' and its typical tempo/energy/valence."""
    genre = kb.find_genre(genre_name) if genre_name else None
    if genre is None:
        return token_vector("genre:unknown", dim).copy()
    lineage = [genre.id, *kb.genre_ancestors(genre.id)]
    vec = sum(
        ((_LINEAGE_DECAY**i) * token_vector(f"genre:{g}", dim) for i, g in enumerate(lineage)),
        np.zeros(dim),
    )
    quarter = dim // 4
    traits = np.concatenate(
        [
            rbf_code(tempo_normalized(float(genre.default_bpm)), quarter),
            rbf_code(genre.energy, quarter),
            rbf_code(genre.valence, quarter),
            rbf_code(genre.danceability, dim - 3 * quarter),
        ]
    )
    return _unit(_unit(vec) + 0.7 * _unit(traits))


def mood_embedding(
    kb: KnowledgeBase, moods: Sequence[str], valence: float, energy: float, dim: int = 128
) -> np.ndarray:
    """Identity of the mood words plus a smooth code of where they sit in valence/arousal."""
    half = dim // 2
    records = [m for m in (kb.find_mood(name) for name in moods) if m is not None]
    identity = sum((token_vector(f"mood:{m.id}", half) for m in records), np.zeros(half))
    if not records:
        identity = token_vector("mood:neutral", half).copy()
        arousal = energy
    else:
        valence = float(np.mean([m.valence for m in records]))
        arousal = float(np.mean([m.arousal for m in records]))
    side = int(np.sqrt(half))
    grid_v = rbf_code(valence, side)
    grid_a = rbf_code(arousal, half // side)
    plane = np.outer(grid_v, grid_a).ravel()
    plane = np.pad(plane, (0, half - plane.size))
    return np.concatenate([0.6 * _unit(identity), 0.8 * _unit(plane)])


def instrumentation_embedding(
    kb: KnowledgeBase, instruments: Iterable[tuple[str, str]], dim: int = 256
) -> np.ndarray:
    """Instruments, their families and their roles, summed: a soft multi-hot code."""
    vec = np.zeros(dim)
    for name, role in instruments:
        inst = kb.instruments.get(name) or kb.find_instrument(name)
        family = inst.family if inst else "unknown"
        vec += 0.6 * token_vector(f"instrument:{inst.id if inst else name}", dim)
        vec += 0.3 * token_vector(f"family:{family}", dim)
        vec += 0.1 * token_vector(f"role:{role}", dim)
    return _unit(vec)


def structure_embedding(structure: str, plan: StructuralPlan | None, dim: int = 64) -> np.ndarray:
    """The structure's name plus the plan's energy curve, resampled to a fixed length."""
    half = dim // 2
    ident = token_vector(f"structure:{structure.lower()}", half)
    if plan is None:
        curve = np.full(half, 0.5)
    else:
        ratios = np.array([s.duration_ratio for s in plan.sections])
        energies = np.array([s.energy_level for s in plan.sections])
        edges = np.concatenate([[0.0], np.cumsum(ratios)])
        positions = (np.arange(half) + 0.5) / half
        curve = energies[
            np.clip(np.searchsorted(edges, positions, side="right") - 1, 0, len(energies) - 1)
        ]
    return _unit(np.concatenate([ident, curve / np.sqrt(half)]))


@lru_cache(maxsize=4)
def _projection(rows: int, cols: int, name: str) -> np.ndarray:
    """A fixed random projection (Johnson–Lindenstrauss): distances survive it, roughly."""
    matrix = np.random.default_rng(_seed(f"projection:{name}:{rows}x{cols}")).standard_normal(
        (rows, cols)
    )
    matrix /= np.sqrt(cols)
    matrix.setflags(write=False)
    return matrix


def _guidance_features(params: MusicalParameters) -> np.ndarray:
    """What the unified vector leaves out: key, mode, meter, valence, danceability, era."""
    tonic = np.zeros(12)
    tonic[pitch_class(params.tonic)] = 1.0
    num, den = split_meter(params.time_signature)
    return np.concatenate(
        [
            tonic,
            token_vector(f"mode:{params.mode}", 16),
            token_vector(f"meter:{num}/{den}", 16),
            rbf_code(params.valence, 16),
            rbf_code(params.danceability, 16),
            token_vector(f"era:{params.era or 'none'}", 16),
        ]
    )


def encode(
    params: MusicalParameters,
    plan: StructuralPlan | None = None,
    *,
    kb: KnowledgeBase | None = None,
) -> ControlEmbedding:
    """Parameters (and plan) → unified (640), guidance (512) and control (512) vectors."""
    kb = kb or load_knowledge()
    parts = {
        "genre": genre_embedding(kb, params.sub_genre or params.genre, 128),
        "tempo": rbf_code(tempo_normalized(params.tempo_bpm), 32),
        "mood": mood_embedding(kb, params.mood, params.valence, params.energy_level, 128),
        "instrumentation": instrumentation_embedding(
            kb, ((i.name, i.role.value) for i in params.instrumentation), 256
        ),
        "structure": structure_embedding(params.structure, plan, 64),
        "energy": rbf_code(params.energy_level, 32),
    }
    unified = np.zeros(UNIFIED_DIM)
    for name, (start, end) in EMBEDDING_SLICES.items():
        unified[start:end] = parts[name]
    features = _guidance_features(params)
    guidance = np.tanh(_projection(GUIDANCE_DIM, features.size, "guidance") @ features)
    control = np.tanh(_projection(CONTROL_DIM, UNIFIED_DIM, "control") @ unified + 0.5 * guidance)
    return ControlEmbedding(
        unified=[round(float(x), 6) for x in unified],
        guidance=[round(float(x), 6) for x in guidance],
        control=[round(float(x), 6) for x in control],
    )


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    va, vb = np.asarray(a), np.asarray(b)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


# --------------------------------------------------------------------------- one value
# One value's slice of the unified embedding (genre 128, mood 128, instrumentation 256):
# what the spec's embedding cache (v1 §9.3 `getEmbedding(type, value)`) and warm-up
# (§9.7) hold, and what GET/POST /embeddings serve.

KINDS = {"genre": "genres", "mood": "moods", "instrumentation": "instruments"}
DIMS = {"genre": 128, "mood": 128, "instrumentation": 256}
"""Embeddable kinds and the knowledge-base table each draws its values from."""


def _genre(kb: KnowledgeBase, value: str) -> np.ndarray | None:
    genre = kb.find_genre(value)
    return genre_embedding(kb, genre.id, 128) if genre else None


def _mood(kb: KnowledgeBase, value: str) -> np.ndarray | None:
    mood = kb.find_mood(value)
    return mood_embedding(kb, [mood.id], mood.valence, mood.arousal, 128) if mood else None


def _instrument(kb: KnowledgeBase, value: str) -> np.ndarray | None:
    inst = kb.find_instrument(value)
    return instrumentation_embedding(kb, [(inst.id, inst.role)], 256) if inst else None


_BUILDERS: dict[str, Callable[[KnowledgeBase, str], np.ndarray | None]] = {
    "genre": _genre,
    "mood": _mood,
    "instrumentation": _instrument,
}


@lru_cache(maxsize=3)
def _surfaces(table: str) -> tuple[str, ...]:
    kb = load_knowledge()
    return tuple(s for s, refs in kb.vocabulary_all().items() if any(t == table for t, _ in refs))


def _unknown(kind: str, value: str) -> ParameterError:
    close = difflib.get_close_matches(normalize(value), _surfaces(KINDS[kind]), n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ParameterError(f"unknown {kind} {value!r}{hint}", field="value")


@lru_cache(maxsize=2048)
def _embed(kind: str, key: str) -> tuple[float, ...] | None:
    vec = _BUILDERS[kind](load_knowledge(), key)
    return None if vec is None else tuple(round(float(x), 6) for x in vec)


def embed_value(kind: str, value: str) -> list[float]:
    """The `kind` slice of the unified embedding for one value; ParameterError when unknown."""
    if kind not in KINDS:
        raise ParameterError(
            f"unknown embedding kind {kind!r}; one of {', '.join(KINDS)}", field="kind"
        )
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"a {kind} value is required", field="value")
    found = _embed(kind, normalize(value))
    if found is None:
        raise _unknown(kind, value)
    return list(found)
