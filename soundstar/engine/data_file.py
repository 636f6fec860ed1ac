"""The engine's data files (soundstar/engine/data/*.yaml), read and validated into their
models: one way to read them, one error for a file that does not hold what its model says.
Imports neither numpy nor the engine, so the understanding side may read engine data too."""

from __future__ import annotations

from importlib import resources
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from soundstar.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_data_file(name: str) -> object:
    """The parsed YAML of data/`name` (a file shipped with the package)."""
    text = resources.files("soundstar.engine").joinpath(f"data/{name}").read_text("utf-8")
    return yaml.load(text, Loader=_LOADER)


def load_data_file(name: str, model: type[M]) -> M:
    """data/`name` validated as `model`; ConfigError naming the file where it is not."""
    try:
        return model.model_validate(read_data_file(name))
    except ValidationError as exc:
        raise ConfigError(f"data/{name} is invalid: {exc}") from exc
