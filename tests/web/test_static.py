"""The page's files without a browser: local-only assets, resolvable imports, data in step."""

from __future__ import annotations

import json
import re
from pathlib import Path

from soundstar.knowledge import load_knowledge

STATIC = Path(__file__).resolve().parents[2] / "soundstar" / "web" / "static"
IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["'](\./[^"']+)["']""", re.MULTILINE)


def test_instrument_list_matches_the_knowledge_base() -> None:
    kb = load_knowledge()
    expected = [
        {"id": iid, "name": record.name, "role": str(record.role)}
        for iid, record in sorted(kb.instruments.items())
    ]
    assert json.loads((STATIC / "instruments.json").read_text(encoding="utf-8")) == expected


def test_nothing_is_loaded_from_the_internet() -> None:
    for path in STATIC.iterdir():
        if path.suffix not in (".html", ".js", ".css"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']https?:""", text), path.name
        assert not re.search(r"""url\(["']?https?:""", text), path.name
        assert not re.search(r"""from\s+["']https?:""", text), path.name


def test_every_module_import_resolves_to_a_file_that_exports_the_names() -> None:
    modules = sorted(STATIC.glob("*.js"))
    assert modules
    for module in modules:
        text = module.read_text(encoding="utf-8")
        for match in re.finditer(r"""import\s*\{([^}]*)\}\s*from\s*["'](\./[^"']+)["']""", text):
            target = STATIC / match.group(2)
            assert target.is_file(), f"{module.name} imports missing {match.group(2)}"
            exported = target.read_text(encoding="utf-8")
            for name in (n.strip() for n in match.group(1).split(",")):
                if not name:
                    continue
                pattern = rf"export\s+(async\s+)?(function|class|const|let)\s+{re.escape(name)}\b"
                assert re.search(pattern, exported), f"{target.name} does not export {name}"
    assert IMPORT.search((STATIC / "app.js").read_text(encoding="utf-8"))


def test_the_page_names_only_files_that_exist() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    for ref in re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", html):
        assert (STATIC / ref).is_file(), ref


def _page_list(name: str) -> list[str]:
    """A constant list of strings in params.js (`const NAME = [...]`)."""
    text = (STATIC / "params.js").read_text(encoding="utf-8")
    found = re.search(rf"const {name} = \[([^\]]*)\]", text)
    assert found, name
    return re.findall(r'"([^"]+)"', found.group(1))


def test_every_key_and_meter_the_page_offers_is_a_value_the_controls_take() -> None:
    """The page's selectors are the service's controls: each choice is sent as `key` or
    `time_signature` and read by the same function as `--set`, so none is refused."""
    from soundstar.controls import apply_to_parameters, overrides_from_json
    from soundstar.models import InstrumentSpec, MusicalParameters, Role

    params = MusicalParameters(
        genre="pop",
        tempo_bpm=100,
        key="C major",
        instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
    )
    for tonic in _page_list("TONICS"):
        for mode in _page_list("MODES"):
            set_key = overrides_from_json({"key": f"{tonic} {mode}"}, "controls")
            assert apply_to_parameters(params, set_key).key == f"{tonic} {mode}"
    for meter in _page_list("METERS"):
        set_meter = overrides_from_json({"time_signature": meter}, "controls")
        assert apply_to_parameters(params, set_meter).time_signature == meter
