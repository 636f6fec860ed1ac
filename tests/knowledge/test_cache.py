"""The compiled knowledge base: read back when nothing changed, rebuilt when a data file or
the cache file changed, and whole after concurrent starts."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundstar.knowledge import DEFAULT_DATA_DIR, KnowledgeBase, load_knowledge, loader
from soundstar.knowledge import cache as compiled


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv(compiled.CACHE_DIR_ENV, str(directory))
    load_knowledge.cache_clear()
    yield directory
    load_knowledge.cache_clear()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every data directory built from YAML (not read from the cache) from now on."""
    built: list[Path] = []
    build = loader.build_knowledge

    def counting(root: Path) -> KnowledgeBase:
        built.append(root)
        return build(root)

    monkeypatch.setattr(loader, "build_knowledge", counting)
    return built


def _compiled_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("knowledge-*.pickle"))


def _fresh_load(data: Path) -> KnowledgeBase:
    """A load as a new process would do it: the in-process copy forgotten."""
    load_knowledge.cache_clear()
    return load_knowledge(data)


def test_a_second_start_reads_the_compiled_base(
    cache_dir: Path, data: Path, builds: list[Path]
) -> None:
    first = _fresh_load(data)
    second = _fresh_load(data)
    assert builds == [data]
    assert len(_compiled_files(cache_dir)) == 1
    assert second.genres == first.genres and second.instruments == first.instruments
    assert second.find_genre("lo-fi hip hop") == first.find_genre("lo-fi hip hop")
    assert second.vocabulary() == first.vocabulary()


def test_editing_a_data_file_rebuilds(cache_dir: Path, data: Path, builds: list[Path]) -> None:
    assert _fresh_load(data).find_mood("zestyful") is None
    moods = data / "moods.yaml"
    moods.write_text(
        moods.read_text(encoding="utf-8").replace("aliases: [happiness,", "aliases: [zestyful,"),
        encoding="utf-8",
    )
    mood = _fresh_load(data).find_mood("zestyful")
    assert mood is not None and mood.id == "happy"
    assert builds == [data, data]
    assert len(_compiled_files(cache_dir)) == 2


def test_a_change_to_the_loader_code_gives_a_new_key(
    data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = loader._code_files()
    key = compiled.content_key([*data.glob("*.yaml"), *code])
    edited = tmp_path / "records.py"
    records = next(p for p in code if p.name == "records.py")
    edited.write_text(records.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    changed = [edited if p == records else p for p in code]
    assert compiled.content_key([*data.glob("*.yaml"), *changed]) != key


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a pickle at all", b"\x80\x05\x95"],
    ids=["empty", "garbage", "truncated"],
)
def test_a_corrupt_cache_file_is_rebuilt(
    cache_dir: Path, data: Path, builds: list[Path], damage: bytes
) -> None:
    _fresh_load(data)
    (path,) = _compiled_files(cache_dir)
    path.write_bytes(damage)
    assert _fresh_load(data).find_genre("jazz") is not None
    assert builds == [data, data]
    key, kb = pickle.loads(path.read_bytes())
    assert path.name == f"knowledge-{key}.pickle" and isinstance(kb, KnowledgeBase)


def test_a_cache_file_holding_another_key_is_rebuilt(
    cache_dir: Path, data: Path, builds: list[Path]
) -> None:
    _fresh_load(data)
    (path,) = _compiled_files(cache_dir)
    path.write_bytes(pickle.dumps(("another key", {"genres": {}})))
    assert _fresh_load(data).find_genre("jazz") is not None
    assert builds == [data, data]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file ownership is a POSIX notion")
def test_a_cache_file_others_may_write_is_not_read(
    cache_dir: Path, data: Path, builds: list[Path]
) -> None:
    """A pickle runs code when read: one that another user could have written is ignored."""
    _fresh_load(data)
    (path,) = _compiled_files(cache_dir)
    path.chmod(0o666)
    _fresh_load(data)
    assert builds == [data, data]


def test_an_unusable_cache_directory_costs_only_the_build(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch, builds: list[Path]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(compiled.CACHE_DIR_ENV, str(blocker / "cache"))
    assert _fresh_load(data).find_genre("jazz") is not None
    assert _fresh_load(data).find_genre("jazz") is not None
    assert builds == [data, data]
    load_knowledge.cache_clear()


def test_with_no_home_nothing_is_cached_and_the_base_still_loads(
    data: Path, monkeypatch: pytest.MonkeyPatch, builds: list[Path]
) -> None:
    def no_home(cls: type[Path]) -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv(compiled.CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert compiled.cache_dir() is None
    assert _fresh_load(data).find_genre("jazz") is not None
    assert builds == [data]
    load_knowledge.cache_clear()


def test_concurrent_starts_leave_one_whole_cache_file(cache_dir: Path, data: Path) -> None:
    script = (
        "import sys; from soundstar.knowledge import load_knowledge; "
        "print(load_knowledge(sys.argv[1]).find_genre('jazz').id)"
    )
    env = {**os.environ, compiled.CACHE_DIR_ENV: str(cache_dir)}
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(data)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [start.communicate(timeout=120) for start in starts]
    assert [start.returncode for start in starts] == [0] * 4, outputs
    assert all(out.strip() == "jazz" for out, _ in outputs)
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        p.name for p in _compiled_files(cache_dir)
    ]
    (path,) = _compiled_files(cache_dir)
    key, kb = pickle.loads(path.read_bytes())
    assert path.name == f"knowledge-{key}.pickle" and isinstance(kb, KnowledgeBase)


def test_old_compiled_files_are_pruned(cache_dir: Path, data: Path) -> None:
    cache_dir.mkdir(mode=0o700)
    for n in range(compiled.KEEP + 3):
        stale = cache_dir / f"knowledge-{n:032x}.pickle"
        stale.write_bytes(b"old")
        os.utime(stale, (1_000_000 + n, 1_000_000 + n))
    _fresh_load(data)
    kept = _compiled_files(cache_dir)
    assert len(kept) == compiled.KEEP
    assert cache_dir / f"knowledge-{0:032x}.pickle" not in kept


def test_a_compiled_file_in_use_outlives_newer_ones(cache_dir: Path, data: Path) -> None:
    _fresh_load(data)
    (used,) = _compiled_files(cache_dir)
    os.utime(used, (1_000_000, 1_000_000))
    for n in range(compiled.KEEP):
        newer = cache_dir / f"knowledge-{n:032x}.pickle"
        newer.write_bytes(b"other checkout")
        os.utime(newer, (2_000_000 + n, 2_000_000 + n))
    _fresh_load(data)  # read, so used again
    compiled._prune(cache_dir, "knowledge", cache_dir / "knowledge-none.pickle")
    assert used in _compiled_files(cache_dir)
    assert len(_compiled_files(cache_dir)) == compiled.KEEP


def test_the_cache_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(compiled.CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert compiled.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(compiled.CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compiled.cache_dir() == tmp_path / "xdg" / "soundstar"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compiled.cache_dir() == tmp_path / "home" / ".cache" / "soundstar"


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_the_key_changes_with_any_byte_of_the_content(
    tmp_path_factory: pytest.TempPathFactory, a: bytes, b: bytes
) -> None:
    folder = tmp_path_factory.mktemp("key")
    first, second = folder / "table.yaml", folder / "other" / "table.yaml"
    second.parent.mkdir()
    first.write_bytes(a)
    second.write_bytes(b)
    assert (compiled.content_key([first]) == compiled.content_key([second])) == (a == b)
