"""Read the YAML tables, resolve genre inheritance, validate every reference, build the base.

Every problem is raised as KnowledgeError naming the file, the record and the field, so a
data edit that breaks something says exactly where.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from soundstar import models
from soundstar.errors import ConfigError
from soundstar.knowledge.base import KnowledgeBase, normalize, surface_forms
from soundstar.knowledge.cache import content_key, load_compiled
from soundstar.knowledge.derived import MoodLexicon, lexicon_moods
from soundstar.knowledge.records import (
    Abbreviation,
    Articulation,
    Artist,
    BassGroove,
    DrumGroove,
    Ensemble,
    Era,
    GenericInstrument,
    Genre,
    Instrument,
    Mood,
    NamedEnsemble,
    Progression,
    Structure,
    TempoTerm,
)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
TABLES: tuple[str, ...] = (
    "genres",
    "moods",
    "instruments",
    "eras",
    "artists",
    "tempo_terms",
    "abbreviations",
    "progressions",
    "structures",
    "drum_grooves",
    "bass_grooves",
    "articulations",
    "ensembles",
)
_OWN_FIELDS = frozenset({"id", "name", "parent", "aliases", "description", "form_words", "form_of"})
"""Genre fields a child never takes from its parent."""
_OPTIONAL_AT_ROOT = frozenset({"keys", "era"})
_UNPITCHED_ROLES = frozenset({"drums", "percussion"})

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Raw = dict[str, Any]


class KnowledgeError(ConfigError):
    """The knowledge-base data is invalid; says which file, record and field."""

    def __init__(self, file: str, record: str, field: str | None, problem: str) -> None:
        where = f"{file}: record {record!r}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}", field=field)
        self.file = file
        self.record = record
        self.problem = problem


def _label(raw: Mapping[str, Any], index: int) -> str:
    for key in ("id", "name", "term", "short"):
        value = raw.get(key)
        if isinstance(value, str | int) and str(value):
            return str(value)
    return f"#{index}"


def _document(data_dir: Path, table: str) -> Any:
    """The parsed YAML of `<table>.yaml`."""
    import yaml  # only a build reads YAML: a start from the compiled cache never imports it

    path = data_dir / f"{table}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(path.name, "-", None, f"cannot read the file ({exc})") from exc
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise KnowledgeError(path.name, "-", None, f"not valid YAML: {exc}") from exc


def _read_table(
    data_dir: Path, table: str, key: str | None = None, *, optional: bool = False
) -> list[Raw]:
    """The records under `key` (default: the table's name) in `<table>.yaml`; an absent
    `optional` key reads as no records."""
    file = f"{table}.yaml"
    key = key or table
    document = _document(data_dir, table)
    if optional and isinstance(document, dict) and key not in document:
        return []
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise KnowledgeError(file, "-", key, f"the file must hold '{key}:' with a list")
    records: list[Raw] = document[key]
    for index, raw in enumerate(records):
        if not isinstance(raw, dict):
            raise KnowledgeError(file, f"#{index}", None, "a record must be a mapping")
    return records


def _validate(model: type[M], raw: Raw, file: str, index: int) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise KnowledgeError(file, _label(raw, index), field, first["msg"]) from exc


def _validate_all(model: type[M], raws: list[Raw], file: str) -> list[M]:
    return [_validate(model, raw, file, i) for i, raw in enumerate(raws)]


def _keyed(records: Iterable[M], key: Callable[[M], str], file: str) -> dict[str, M]:
    out: dict[str, M] = {}
    for record in records:
        k = key(record)
        if k in out:
            raise KnowledgeError(file, k, "id", "duplicate id")
        out[k] = record
    return out


def _resolve_genres(raws: list[Raw]) -> list[Genre]:
    """Fill each child's missing fields from its parent, recursively, then validate.

    `instrumentation` merges by role: a child names only the roles it changes, and an
    empty list removes a role (e.g. `drums: []`).
    """
    file = "genres.yaml"
    by_id: dict[str, Raw] = {}
    for index, raw in enumerate(raws):
        gid = raw.get("id")
        if not isinstance(gid, str):
            raise KnowledgeError(file, _label(raw, index), "id", "every genre needs a string id")
        if gid in by_id:
            raise KnowledgeError(file, gid, "id", "duplicate id")
        by_id[gid] = raw
    required = {
        name
        for name in Genre.model_fields
        if name not in _OWN_FIELDS and name not in _OPTIONAL_AT_ROOT
    }
    resolved: dict[str, Raw] = {}

    def resolve(gid: str, seen: tuple[str, ...]) -> Raw:
        if gid in resolved:
            return resolved[gid]
        raw = by_id[gid]
        parent = raw.get("parent")
        if parent is None:
            missing = sorted(required - raw.keys())
            if missing:
                raise KnowledgeError(file, gid, missing[0], "a root genre must define every field")
            resolved[gid] = dict(raw)
            lineup = raw.get("instrumentation")
            if isinstance(lineup, dict):
                resolved[gid]["instrumentation"] = {r: ids for r, ids in lineup.items() if ids}
            return resolved[gid]
        if parent not in by_id:
            raise KnowledgeError(file, gid, "parent", f"unknown parent genre {parent!r}")
        if parent in seen:
            raise KnowledgeError(file, gid, "parent", f"parent chain loops: {' -> '.join(seen)}")
        inherited = resolve(parent, (*seen, gid))
        merged = {k: v for k, v in inherited.items() if k not in _OWN_FIELDS}
        merged.update(raw)
        if isinstance(raw.get("instrumentation"), dict):
            lineup = dict(inherited.get("instrumentation") or {})
            lineup.update(raw["instrumentation"])
            merged["instrumentation"] = {role: ids for role, ids in lineup.items() if ids}
        resolved[gid] = merged
        return merged

    return [
        _validate(Genre, resolve(str(raw["id"]), (str(raw["id"]),)), file, i)
        for i, raw in enumerate(raws)
    ]


class _Refs:
    """Referential-integrity checks against the known ids of each table."""

    def __init__(self, known: Mapping[str, Iterable[str]]) -> None:
        self.known = {table: frozenset(ids) for table, ids in known.items()}

    def check(self, file: str, record: str, field: str, table: str, ids: Iterable[str]) -> None:
        for ref in ids:
            if ref not in self.known[table]:
                raise KnowledgeError(file, record, field, f"unknown {table[:-1]} id {ref!r}")


def _check_genres(
    genres: Mapping[str, Genre],
    refs: _Refs,
    instruments: Mapping[str, Instrument],
    drum_grooves: Mapping[str, DrumGroove],
    bass_grooves: Mapping[str, BassGroove],
) -> None:
    _check_grooves(drum_grooves, bass_grooves)
    file = "genres.yaml"
    for g in genres.values():
        refs.check(file, g.id, "drum_grooves", "drum_grooves", g.drum_grooves)
        refs.check(file, g.id, "bass_grooves", "bass_grooves", g.bass_grooves)
        refs.check(file, g.id, "progressions", "progressions", g.progressions)
        refs.check(file, g.id, "structures", "structures", g.structures)
        refs.check(file, g.id, "moods", "moods", g.moods)
        refs.check(file, g.id, "era", "eras", [g.era] if g.era else [])
        for role, ids in g.instrumentation.items():
            refs.check(file, g.id, f"instrumentation.{role}", "instruments", ids)
            for iid in ids:
                _check_role(file, g.id, f"instrumentation.{role}", instruments[iid], role)
        if g.drum_grooves and g.drum_kit is None:
            raise KnowledgeError(file, g.id, "drum_kit", "a genre with drum grooves needs a kit")
        names = {normalize(form) for form in surface_forms(g.id, g.name, g.aliases)}
        for word in g.form_words:
            if normalize(word) not in names:
                raise KnowledgeError(
                    file, g.id, "form_words", f"{word!r} is not a name or alias of {g.id!r}"
                )
        if g.form_of is not None:
            refs.check(file, g.id, "form_of", "genres", [g.form_of])
            if not genres[g.form_of].form_words or g.parent is None:
                raise KnowledgeError(
                    file,
                    g.id,
                    "form_of",
                    f"a style's version of a form: {g.form_of!r} must have form_words "
                    "and this genre a parent style",
                )
        for field, table in (("drum_grooves", drum_grooves), ("bass_grooves", bass_grooves)):
            for groove_id in getattr(g, field):
                if field == "drum_grooves" and drum_grooves[groove_id].role != "kit":
                    raise KnowledgeError(
                        file, g.id, field, f"groove {groove_id!r} is not a kit groove"
                    )
                meter = table[groove_id].meter
                if meter not in g.meters:
                    raise KnowledgeError(
                        file,
                        g.id,
                        field,
                        f"groove {groove_id!r} is in {meter}, not in {list(g.meters)}",
                    )


def _check_grooves(
    drum_grooves: Mapping[str, DrumGroove], bass_grooves: Mapping[str, BassGroove]
) -> None:
    """At most one plain kit groove, plain bass groove and hand-percussion groove per meter:
    each is what the composer plays in the meter where a style has none of its own."""
    tables: list[tuple[str, str, list[tuple[str, str]]]] = [
        (
            "drum_grooves.yaml",
            "plain",
            [(g.id, g.meter) for g in drum_grooves.values() if g.plain],
        ),
        (
            "drum_grooves.yaml",
            "role",
            [(g.id, g.meter) for g in drum_grooves.values() if g.role == "hand_percussion"],
        ),
        ("bass_grooves.yaml", "plain", [(g.id, g.meter) for g in bass_grooves.values() if g.plain]),
    ]
    for file, field, grooves in tables:
        seen: dict[str, str] = {}
        for gid, meter in grooves:
            if meter in seen:
                raise KnowledgeError(
                    file, gid, field, f"{seen[meter]!r} already has this place in {meter}"
                )
            seen[meter] = gid


def _check_role(file: str, record: str, field: str, inst: Instrument, role: str) -> None:
    """Drums take drum-kit entries and pitched roles pitched instruments."""
    drum = inst.drum
    if (role == "drums" and not drum) or (role not in _UNPITCHED_ROLES and drum):
        raise KnowledgeError(
            file,
            record,
            field,
            f"{inst.id!r} is {'' if drum else 'not '}a drum-kit entry; "
            "drums take kit entries, pitched roles take pitched instruments",
        )


def _check_named_ensembles(
    named: Mapping[str, NamedEnsemble],
    refs: _Refs,
    instruments: Mapping[str, Instrument],
    instrument_surfaces: Mapping[str, Iterable[str]],
) -> None:
    """Members are known instruments in a role they can play; the genre is known; no name of
    an ensemble also names an instrument (the mention would read as both)."""
    file = "ensembles.yaml"
    instrument_forms = {
        normalize(form): iid for iid, forms in instrument_surfaces.items() for form in forms
    }
    for e in named.values():
        for iid, role in e.members.items():
            if iid not in instruments:
                raise KnowledgeError(
                    file,
                    e.id,
                    "members",
                    f"{iid!r} is not an instrument id in instruments.yaml",
                )
            _check_role(file, e.id, f"members.{iid}", instruments[iid], role)
        refs.check(file, e.id, "genre", "genres", [e.genre] if e.genre else [])
        for form in surface_forms(e.id, e.name, e.aliases):
            clash = instrument_forms.get(normalize(form))
            if clash is not None:
                raise KnowledgeError(
                    file, e.id, "aliases", f"{form!r} already names the instrument {clash!r}"
                )


def _check_generic_instruments(
    generics: Iterable[GenericInstrument],
    instruments: Mapping[str, Instrument],
    instrument_surfaces: Mapping[str, Iterable[str]],
) -> dict[str, GenericInstrument]:
    """Generic words by normalized word. Each word is a name of its instrument (so the
    matcher meets it as that instrument), listed once; every kind is a known instrument
    played as the instrument is (a drum kit's kinds are kits)."""
    file = "instruments.yaml"
    by_word: dict[str, GenericInstrument] = {}
    for g in generics:
        if g.instrument not in instruments:
            raise KnowledgeError(
                file, g.words[0], "instrument", f"unknown instrument id {g.instrument!r}"
            )
        forms = {normalize(form) for form in instrument_surfaces[g.instrument]}
        for word in g.words:
            key = normalize(word)
            if key not in forms:
                raise KnowledgeError(
                    file, word, "words", f"{word!r} is not a name of {g.instrument!r}"
                )
            if key in by_word:
                raise KnowledgeError(file, word, "words", "word listed twice")
            by_word[key] = g
        for kind in g.kinds:
            if kind not in instruments:
                raise KnowledgeError(file, g.words[0], "kinds", f"unknown instrument id {kind!r}")
            if instruments[kind].drum != instruments[g.instrument].drum:
                raise KnowledgeError(
                    file,
                    g.words[0],
                    "kinds",
                    f"{kind!r} and {g.instrument!r} are not both drum kits or both pitched",
                )
    return by_word


def _check_aliases(file: str, surfaces: Mapping[str, Iterable[str]]) -> None:
    """Two records of one table may not share a surface form."""
    owner: dict[str, str] = {}
    for record_id, forms in surfaces.items():
        for form in forms:
            key = normalize(form)
            other = owner.setdefault(key, record_id)
            if other != record_id:
                raise KnowledgeError(
                    file, record_id, "aliases", f"{form!r} already names {other!r}"
                )


def _playing_nouns(data_dir: Path) -> tuple[str, ...]:
    """instruments.yaml `playing_nouns`: lowercase words (none when the key is absent)."""
    document = _document(data_dir, "instruments")
    nouns = document.get("playing_nouns", []) if isinstance(document, dict) else []
    if not isinstance(nouns, list) or not all(
        isinstance(n, str) and n == n.lower().strip() and n for n in nouns
    ):
        raise KnowledgeError("instruments.yaml", "-", "playing_nouns", "a list of lowercase words")
    return tuple(nouns)


def _mood_words(
    data_dir: Path, moods: Mapping[str, Mood], vocabulary: Mapping[str, Iterable[str]]
) -> dict[str, str]:
    """mood_lexicon.yaml read, each word placed on its nearest mood. A word that already
    names something in the knowledge base (`vocabulary`: surfaces per record) is an error:
    it would read as two things."""
    file = "mood_lexicon.yaml"
    if not (data_dir / file).exists():
        return {}
    raw = _document(data_dir, "mood_lexicon")
    try:
        lexicon = MoodLexicon.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise KnowledgeError(file, "-", field, first["msg"]) from exc
    for mood_id in lexicon.scene_moods:
        if mood_id not in moods:
            raise KnowledgeError(file, mood_id, "scene_moods", f"unknown mood id {mood_id!r}")
    named = {normalize(form): rid for rid, forms in vocabulary.items() for form in forms}
    for word in (*lexicon.words, *lexicon.scenes):
        if normalize(word) in named:
            raise KnowledgeError(
                file, word, "words", f"{word!r} already names {named[normalize(word)]!r}"
            )
    return lexicon_moods(moods, lexicon)


@functools.cache
def load_knowledge(data_dir: Path | str | None = None) -> KnowledgeBase:
    """The validated knowledge base of a data directory: once per process, and read from the
    compiled cache when neither the data files nor the code that validates them changed."""
    root = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    try:
        key = content_key([*root.glob("*.yaml"), *_code_files()])
    except OSError:
        return build_knowledge(root)
    return load_compiled("knowledge", key, lambda: build_knowledge(root), KnowledgeBase)


def load_derived(name: str, build: Callable[[], T], kind: type[T], *, code: Path) -> T:
    """A value derived from the default knowledge base alone (a search index, a word list),
    compiled beside it: built again when the data files, the knowledge code or the module
    `code` that derives it changes."""
    try:
        files = [*DEFAULT_DATA_DIR.glob("*.yaml"), *_code_files(), code]
        key = content_key(files, salt=name)
    except OSError:
        return build()
    return load_compiled(name, key, build, kind)


def _code_files() -> list[Path]:
    """The code a compiled knowledge base depends on: this package and the models its
    records use."""
    return [*Path(__file__).resolve().parent.glob("*.py"), Path(models.__file__).resolve()]


def build_knowledge(root: Path) -> KnowledgeBase:
    """Load, validate and cross-check the knowledge base in `root`, with no cache."""
    raw = {table: _read_table(root, table) for table in TABLES}

    moods = _keyed(_validate_all(Mood, raw["moods"], "moods.yaml"), lambda m: m.id, "moods.yaml")
    instruments = _keyed(
        _validate_all(Instrument, raw["instruments"], "instruments.yaml"),
        lambda i: i.id,
        "instruments.yaml",
    )
    eras = _keyed(_validate_all(Era, raw["eras"], "eras.yaml"), lambda e: e.id, "eras.yaml")
    artists = _validate_all(Artist, raw["artists"], "artists.yaml")
    _keyed(artists, lambda a: a.name, "artists.yaml")
    tempo_terms = _validate_all(TempoTerm, raw["tempo_terms"], "tempo_terms.yaml")
    _keyed(tempo_terms, lambda t: t.term, "tempo_terms.yaml")
    abbreviations = _keyed(
        _validate_all(Abbreviation, raw["abbreviations"], "abbreviations.yaml"),
        lambda a: a.short,
        "abbreviations.yaml",
    )
    progressions = _keyed(
        _validate_all(Progression, raw["progressions"], "progressions.yaml"),
        lambda p: p.id,
        "progressions.yaml",
    )
    structures = _keyed(
        _validate_all(Structure, raw["structures"], "structures.yaml"),
        lambda s: s.id,
        "structures.yaml",
    )
    drum_grooves = _keyed(
        _validate_all(DrumGroove, raw["drum_grooves"], "drum_grooves.yaml"),
        lambda d: d.id,
        "drum_grooves.yaml",
    )
    bass_grooves = _keyed(
        _validate_all(BassGroove, raw["bass_grooves"], "bass_grooves.yaml"),
        lambda b: b.id,
        "bass_grooves.yaml",
    )
    genres = {g.id: g for g in _resolve_genres(raw["genres"])}

    refs = _Refs(
        {
            "genres": genres,
            "moods": moods,
            "instruments": instruments,
            "eras": eras,
            "progressions": progressions,
            "structures": structures,
            "drum_grooves": drum_grooves,
            "bass_grooves": bass_grooves,
        }
    )
    _check_genres(genres, refs, instruments, drum_grooves, bass_grooves)
    for i in instruments.values():
        refs.check("instruments.yaml", i.id, "counts_as", "instruments", i.counts_as)
        if i.variant_of is not None:
            refs.check("instruments.yaml", i.id, "variant_of", "instruments", [i.variant_of])
            if instruments[i.variant_of].variant_of is not None or i.variant_of == i.id:
                raise KnowledgeError(
                    "instruments.yaml", i.id, "variant_of", "must name a base instrument"
                )
    for m in moods.values():
        refs.check("moods.yaml", m.id, "opposites", "moods", m.opposites)
    for e in eras.values():
        refs.check("eras.yaml", e.id, "genres", "genres", e.genres)
        refs.check("eras.yaml", e.id, "instruments", "instruments", e.instruments)
    for a in artists:
        refs.check("artists.yaml", a.name, "genres", "genres", a.genres)
        refs.check("artists.yaml", a.name, "era", "eras", [a.era] if a.era else [])
        refs.check("artists.yaml", a.name, "instruments", "instruments", a.instruments)
        refs.check("artists.yaml", a.name, "moods", "moods", a.moods)
    for p in progressions.values():
        refs.check("progressions.yaml", p.id, "genres", "genres", p.genres)
        refs.check("progressions.yaml", p.id, "moods", "moods", p.moods)

    _check_aliases(
        "genres.yaml", {g.id: surface_forms(g.id, g.name, g.aliases) for g in genres.values()}
    )
    _check_aliases(
        "moods.yaml", {m.id: surface_forms(m.id, None, m.aliases) for m in moods.values()}
    )
    instrument_surfaces = {
        i.id: surface_forms(i.id, i.name, i.aliases) for i in instruments.values()
    }
    _check_aliases("instruments.yaml", instrument_surfaces)
    generic_instruments = _check_generic_instruments(
        _validate_all(
            GenericInstrument,
            _read_table(root, "instruments", "generic_instruments", optional=True),
            "instruments.yaml",
        ),
        instruments,
        instrument_surfaces,
    )
    _check_aliases("eras.yaml", {e.id: surface_forms(e.id, None, e.aliases) for e in eras.values()})
    _check_aliases(
        "artists.yaml", {a.name: surface_forms(a.name, a.name, a.aliases) for a in artists}
    )
    _check_aliases(
        "structures.yaml",
        {s.id: surface_forms(s.id, s.name, s.aliases) for s in structures.values()},
    )
    _check_aliases(
        "progressions.yaml",
        {p.id: surface_forms(p.id, p.name, p.aliases) for p in progressions.values()},
    )

    articulations = _validate_all(Articulation, raw["articulations"], "articulations.yaml")
    by_word: dict[str, Articulation] = {}
    for articulation in articulations:
        for word in articulation.words:
            if word in by_word:
                raise KnowledgeError("articulations.yaml", word, "words", "word listed twice")
            by_word[word] = articulation
        if articulation.bass_groove is not None and articulation.bass_groove not in bass_grooves:
            raise KnowledgeError(
                "articulations.yaml",
                articulation.words[0],
                "bass_groove",
                f"unknown bass groove {articulation.bass_groove!r}",
            )

    ensembles = _keyed(
        _validate_all(Ensemble, raw["ensembles"], "ensembles.yaml"),
        lambda e: e.word,
        "ensembles.yaml",
    )
    named_ensembles = _keyed(
        _validate_all(
            NamedEnsemble,
            _read_table(root, "ensembles", "named_ensembles", optional=True),
            "ensembles.yaml",
        ),
        lambda e: e.id,
        "ensembles.yaml",
    )
    _check_named_ensembles(named_ensembles, refs, instruments, instrument_surfaces)
    for size_word in ensembles.values():
        implied = [size_word.genre] if size_word.genre else []
        refs.check("ensembles.yaml", size_word.word, "genre", "genres", implied)
    _check_aliases(
        "ensembles.yaml",
        {e.id: surface_forms(e.id, e.name, e.aliases) for e in named_ensembles.values()},
    )

    vocabulary: dict[str, list[str]] = {}
    for table in (
        {g.id: surface_forms(g.id, g.name, g.aliases) for g in genres.values()},
        {m.id: surface_forms(m.id, None, m.aliases) for m in moods.values()},
        instrument_surfaces,
        {e.id: surface_forms(e.id, e.name, e.aliases) for e in named_ensembles.values()},
        {e.id: surface_forms(e.id, None, e.aliases) for e in eras.values()},
        {a.name: surface_forms(a.name, a.name, a.aliases) for a in artists},
        {s.id: surface_forms(s.id, s.name, s.aliases) for s in structures.values()},
        {p.id: surface_forms(p.id, p.name, p.aliases) for p in progressions.values()},
    ):  # a tempo word may be a mood word too ("laid back"): the matcher reads both
        for record_id, forms in table.items():
            vocabulary.setdefault(record_id, []).extend(forms)

    return KnowledgeBase.assemble(
        genres=genres,
        moods=moods,
        instruments=instruments,
        eras=eras,
        artists=artists,
        tempo_terms=tempo_terms,
        abbreviations={short: a.expansion for short, a in abbreviations.items()},
        progressions=progressions,
        structures=structures,
        drum_grooves=drum_grooves,
        bass_grooves=bass_grooves,
        articulations=by_word,
        ensembles=ensembles,
        named_ensembles=named_ensembles,
        generic_instruments=generic_instruments,
        mood_words=_mood_words(root, moods, vocabulary),
        playing_nouns=_playing_nouns(root),
    )
