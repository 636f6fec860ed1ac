"""Start-up stays lean: `soundstar parse` and `generate` import no LLM client (unless one is
configured), no web framework, database or analysis library; parse no numeric stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_AND_ANALYSIS = ("openai", "fastapi", "sqlalchemy", "librosa", "uvicorn", "celery", "redis")
NUMERIC = ("numpy", "scipy")
PROMPT = "a calm piano and strings piece in e minor"

_RUN_CLI = """
import json, sys
from soundstar.cli import main
sys.argv = ["soundstar", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    status = exit.code
watched = {watched!r}
loaded = sorted(m for m in watched if m in sys.modules)
print("IMPORTED " + json.dumps({{"status": status, "loaded": loaded}}))
"""


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """This process's environment with no LLM configured and a private cache directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDSTAR_AURORA")}
    env["SOUNDSTAR_CACHE_DIR"] = str(tmp_path / "cache")
    return env


def _imported(tmp_path: Path, *args: str, watched: tuple[str, ...]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_CLI.format(watched=watched), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_offline_env(tmp_path),
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("IMPORTED "))
    report = json.loads(line.removeprefix("IMPORTED "))
    assert report["status"] == 0, proc.stderr
    loaded: list[str] = report["loaded"]
    return loaded


def test_parse_imports_no_llm_client_service_analysis_or_numeric_stack(tmp_path: Path) -> None:
    watched = SERVICE_AND_ANALYSIS + NUMERIC
    assert _imported(tmp_path, "parse", PROMPT, watched=watched) == []
    assert _imported(tmp_path, "plan", PROMPT, watched=watched) == []


def test_parse_loads_neither_the_llm_answer_checks_nor_the_enhancer_or_suggester(
    tmp_path: Path,
) -> None:
    watched = (
        "soundstar.aurora.backends.llm_normalise",
        "soundstar.aurora.backends.llm_suggest",
        "soundstar.aurora.enhancer",
        "soundstar.aurora.suggester",
    )
    assert _imported(tmp_path, "parse", PROMPT, watched=watched) == []


def test_generate_imports_no_llm_client_service_or_analysis(tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    args = ("generate", PROMPT, "--duration", "5", "--seed", "1", "-o", str(out))
    assert _imported(tmp_path, *args, watched=SERVICE_AND_ANALYSIS) == []
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SOUNDSTAR_AURORA__IMPLEMENTATIONS__SECONDARY__ENDPOINT", "http://127.0.0.1:9/v1"),
        ("SOUNDSTAR_AURORA__IMPLEMENTATIONS__PRIMARY__API_KEY", "sk-test"),
    ],
)
def test_the_llm_client_is_imported_once_an_llm_is_configured(
    tmp_path: Path, setting: str, value: str
) -> None:
    script = (
        "import sys; from soundstar.aurora.builders import build_aurora; "
        "from soundstar.config import load_settings; "
        "print(build_aurora(load_settings()).llm_configured, 'openai' in sys.modules)"
    )
    env = {**_offline_env(tmp_path), setting: value}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.stdout.split() == ["True", "True"], proc.stderr
