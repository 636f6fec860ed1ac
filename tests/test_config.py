"""Settings from environment and YAML; bad configuration names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstar.config import load_settings
from soundstar.errors import ConfigError


def test_defaults_work_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDSTAR_CONFIG_FILE", raising=False)
    settings = load_settings()
    assert settings.aurora.implementations.primary.api_key is None
    assert settings.aurora.caching.ttl.enhancement == 3600
    assert settings.engine.target_lufs == -14.0


def test_yaml_in_the_spec_shape_is_read_with_env_interpolation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "aurora.yaml"
    config.write_text(
        """
aurora:
  version: "2.0"
  implementations:
    primary:
      type: codex
      api_url: "${CODEX_API_URL}"
      api_key: "${CODEX_API_KEY}"
      timeout_ms: 5000
      max_retries: 2
    secondary:
      type: local_llm
      endpoint: "http://localhost:1234/v1"
      model: "aurora-music-7b"
  modules:
    semantic_parser: {enabled: true, confidence_threshold: 0.7}
  caching:
    ttl: {enhancement: 60, embedding: 120, suggestion: 5}
  monitoring: {log_level: debug}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("SOUNDSTAR_CONFIG_FILE", str(config))
    monkeypatch.setenv("CODEX_API_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CODEX_API_KEY", "sk-test")
    settings = load_settings()
    primary = settings.aurora.implementations.primary
    assert primary.api_url == "http://127.0.0.1:9/v1"
    assert primary.api_key is not None and primary.api_key.get_secret_value() == "sk-test"
    assert primary.timeout_ms == 5000
    assert settings.aurora.modules.semantic_parser.confidence_threshold == 0.7
    assert settings.aurora.caching.ttl.suggestion == 5


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("engine:\n  target_lufs: -16\n", encoding="utf-8")
    monkeypatch.setenv("SOUNDSTAR_CONFIG_FILE", str(config))
    monkeypatch.setenv("SOUNDSTAR_ENGINE__TARGET_LUFS", "-12")
    assert load_settings().engine.target_lufs == -12


def test_unset_variable_leaves_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        'aurora:\n  implementations:\n    primary:\n      api_key: "${NOT_SET_ANYWHERE}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SOUNDSTAR_CONFIG_FILE", str(config))
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    assert load_settings().aurora.implementations.primary.api_key is None


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        (
            "aurora:\n  implementations:\n    primary:\n      timeout_ms: -5\n",
            "aurora.implementations.primary.timeout_ms",
        ),
        (
            "aurora:\n  modules:\n    semantic_parser:\n      confidence_threshold: 7\n",
            "aurora.modules.semantic_parser.confidence_threshold",
        ),
        ("aurora:\n  caching:\n    tll: {}\n", "aurora.caching.tll"),
        ("engine:\n  sample_rate: 12345\n", "engine.sample_rate"),
    ],
)
def test_invalid_configuration_names_the_bad_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str, key: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    monkeypatch.setenv("SOUNDSTAR_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings()


def test_broken_yaml_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("aurora: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("SOUNDSTAR_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_settings()


def test_bad_environment_value_names_the_variable_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDSTAR_CONFIG_FILE", raising=False)
    monkeypatch.setenv("SOUNDSTAR_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="port"):
        load_settings()
