"""The spec's request templates (v2 §4.2), kept as text files and rendered into chat messages.

A template file has a `### system` part and a `### user` part; `{{name}}`
placeholders are filled in one pass, so text inside a value is never expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from soundstar.errors import ConfigError

TEMPLATE_NAMES = ("enhance", "parse", "plan", "suggest")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_SECTION = re.compile(r"^### (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    """One module's system and user message texts, with placeholders."""

    name: str
    system: str
    user: str

    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system)) | set(_PLACEHOLDER.findall(self.user))

    def render(self, values: dict[str, str]) -> list[dict[str, str]]:
        """The chat messages with every placeholder filled; a missing value is a bug."""
        missing = self.placeholders() - values.keys()
        if missing:
            raise ConfigError(f"template {self.name!r} needs values for {sorted(missing)}")

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text).strip()

        return [
            {"role": "system", "content": fill(self.system)},
            {"role": "user", "content": fill(self.user)},
        ]


def parse_template(name: str, text: str) -> Template:
    """Split a template file's text into its system and user parts."""
    parts: dict[str, str] = {}
    matches = list(_SECTION.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        parts[match.group(1)] = text[match.end() : end].strip("\n")
    if set(parts) != {"system", "user"}:
        raise ConfigError(f"template {name!r} must have a '### system' and a '### user' part")
    return Template(name=name, system=parts["system"], user=parts["user"])


@lru_cache(maxsize=len(TEMPLATE_NAMES))
def load_template(name: str) -> Template:
    """Load `soundstar/aurora/templates/<name>.txt`."""
    if name not in TEMPLATE_NAMES:
        raise ConfigError(f"no Aurora template named {name!r}; one of {', '.join(TEMPLATE_NAMES)}")
    path = resources.files("soundstar.aurora").joinpath("templates", f"{name}.txt")
    return parse_template(name, path.read_text(encoding="utf-8"))
