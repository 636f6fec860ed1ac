"""The music knowledge base (spec v2 §3.3): genres, moods, instruments, generic instrument
words, eras, artists, tempo words, abbreviations, progressions, structures, grooves,
articulations, ensemble words and named ensembles, as YAML data with a typed, cross-checked
loader. A bottom layer: Aurora and the engine both read it."""

from soundstar.knowledge.base import KnowledgeBase, compact, normalize
from soundstar.knowledge.loader import DEFAULT_DATA_DIR, KnowledgeError, load_knowledge
from soundstar.knowledge.records import (
    Abbreviation,
    Articulation,
    Artist,
    BassGroove,
    DrumBar,
    DrumGroove,
    Ensemble,
    Era,
    GenericInstrument,
    Genre,
    Instrument,
    Mood,
    NamedEnsemble,
    Progression,
    Section,
    SectionTransition,
    Structure,
    TempoTerm,
)

__all__ = [
    "DEFAULT_DATA_DIR",
    "Abbreviation",
    "Articulation",
    "Artist",
    "BassGroove",
    "DrumBar",
    "DrumGroove",
    "Ensemble",
    "Era",
    "GenericInstrument",
    "Genre",
    "Instrument",
    "KnowledgeBase",
    "KnowledgeError",
    "Mood",
    "NamedEnsemble",
    "Progression",
    "Section",
    "SectionTransition",
    "Structure",
    "TempoTerm",
    "compact",
    "load_knowledge",
    "normalize",
]
