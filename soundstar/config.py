"""Settings: SOUNDSTAR_* environment variables over an optional YAML file (spec v2 Appendix A).

The YAML file has the spec's shape (`aurora: implementations/modules/caching/monitoring`)
plus Soundstar's own top-level keys; `${VAR}` in any string is replaced from the
environment. Environment variables win over the file; nested keys use `__`
(`SOUNDSTAR_AURORA__IMPLEMENTATIONS__PRIMARY__MODEL=gpt-4o-mini`). Invalid
configuration raises ConfigError naming the bad key.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from soundstar.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrimaryImplementation(_Section):
    type: Literal["codex"] = "codex"
    api_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL; None = OpenAI"
    )
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    timeout_ms: int = Field(default=10_000, gt=0, le=600_000)
    max_retries: int = Field(default=3, ge=0, le=10)


class SecondaryImplementation(_Section):
    type: Literal["local_llm"] = "local_llm"
    endpoint: str | None = Field(
        default=None, description="e.g. http://localhost:1234/v1 (LM Studio); None = not configured"
    )
    model: str = "aurora-music-7b"
    timeout_ms: int = Field(default=15_000, gt=0, le=600_000)
    max_retries: int = Field(default=2, ge=0, le=10)


class FallbackImplementation(_Section):
    type: Literal["rule_based"] = "rule_based"
    config_path: str | None = None


class Implementations(_Section):
    primary: PrimaryImplementation = PrimaryImplementation()
    secondary: SecondaryImplementation = SecondaryImplementation()
    fallback: FallbackImplementation = FallbackImplementation()


class EnhancerModule(_Section):
    enabled: bool = True
    default_level: Literal["minimal", "moderate", "aggressive"] = "moderate"


class ParserModule(_Section):
    enabled: bool = True
    confidence_threshold: float = Field(default=0.6, ge=0.0, le=1.0)


class MapperModule(_Section):
    enabled: bool = True
    validation_strict: bool = False


class PlannerModule(_Section):
    enabled: bool = True
    default_structure: str = "verse-chorus"


class Modules(_Section):
    prompt_enhancer: EnhancerModule = EnhancerModule()
    semantic_parser: ParserModule = ParserModule()
    parameter_mapper: MapperModule = MapperModule()
    structural_planner: PlannerModule = PlannerModule()


class CacheTTL(_Section):
    enhancement: int = Field(default=3600, ge=0)
    embedding: int = Field(default=86_400, ge=0)
    suggestion: int = Field(default=300, ge=0)


class Caching(_Section):
    enabled: bool = True
    redis_url: str | None = None
    ttl: CacheTTL = CacheTTL()


class Monitoring(_Section):
    enabled: bool = True
    metrics_endpoint: str = "/metrics"
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class AuroraConfig(_Section):
    version: str = "2.0"
    implementations: Implementations = Implementations()
    modules: Modules = Modules()
    caching: Caching = Caching()
    monitoring: Monitoring = Monitoring()


class EngineConfig(_Section):
    sample_rate: Literal[22050, 32000, 44100, 48000] = 44100
    target_lufs: float = Field(default=-14.0, ge=-40.0, le=-5.0)
    ceiling_dbtp: float = Field(default=-1.0, ge=-12.0, le=0.0)
    soundfont_path: Path | None = None
    rave_model_path: Path | None = None
    render_mode: Literal["auto", "ddsp"] = Field(
        default="auto", description="auto: acoustic instruments from the SoundFont; ddsp: all DDSP"
    )
    rave_roles: list[str] = Field(
        default_factory=lambda: ["lead"],
        description="arrangement roles whose stems pass through RAVE (lead, chords, pad, bass, ...)",
    )
    rave_mix: float = Field(default=1.0, ge=0.0, le=1.0, description="RAVE wet share")


class ApiConfig(_Section):
    """The HTTP service: rate limits per API key and how long `generate` may wait inline."""

    rate_limit_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    rate_limit_burst: int = Field(default=120, ge=1, le=100_000)
    wrong_keys_per_minute: int = Field(default=30, ge=1, le=1_000_000)
    wrong_keys_burst: int = Field(default=20, ge=1, le=100_000)
    generate_wait_max_s: float = Field(default=60.0, ge=0.0, le=600.0)
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=1_073_741_824, description="larger bodies get 413"
    )
    max_upload_bytes: int = Field(
        default=20_971_520,
        ge=1024,
        le=1_073_741_824,
        description="the body limit of an audio upload (POST /api/v1/analyze); larger get 413",
    )
    min_free_disk_mb: int = Field(
        default=200, ge=0, description="/health reports the disk full below this much free space"
    )
    cors_origins: list[str] = Field(default_factory=list)


class JobsConfig(_Section):
    """Where generation jobs run: a pool in the server process, or Celery workers on Redis."""

    backend: Literal["embedded", "celery"] = "embedded"
    workers: int = Field(default=2, ge=1, le=64)
    lease_s: float = Field(default=120.0, ge=5.0, le=86_400.0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    broker_url: str | None = None


def _interpolate(value: Any) -> Any:
    """Replace ${VAR} and ${VAR:-default} in strings, recursively."""
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    return value


def _drop_empty(value: Any) -> Any:
    """An interpolated `${UNSET}` becomes "" — treat it as not given."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    return value


def read_yaml_config(path: Path) -> dict[str, Any]:
    """Read a config file; errors name the file and what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    result = _drop_empty(_interpolate(data))
    assert isinstance(result, dict)
    return result


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data = read_yaml_config(path) if path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    """Everything configurable, with defaults that work offline on a CPU."""

    model_config = SettingsConfigDict(
        env_prefix="SOUNDSTAR_", env_nested_delimiter="__", extra="forbid"
    )

    config_file: Path | None = None
    data_dir: Path = Path.home() / ".soundstar"
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    aurora: AuroraConfig = AuroraConfig()
    engine: EngineConfig = EngineConfig()
    api: ApiConfig = ApiConfig()
    jobs: JobsConfig = JobsConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get("SOUNDSTAR_CONFIG_FILE")
        yaml_source = _YamlSource(settings_cls, Path(path) if path else None)
        return (init_settings, env_settings, yaml_source)


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{key}: {err['msg']}")
    return "invalid configuration: " + "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from environment, file and overrides; ConfigError names any bad key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return load_settings()
