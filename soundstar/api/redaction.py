"""No API key in any log line: every log record's message and text arguments are
redacted when the record is made, whoever logs it (our code, uvicorn's access log,
a library), so a key sent the wrong way (a URL, a header echoed in an error) is masked."""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "[redacted]"
_SECRETS = re.compile(
    r"(?P<token>\bss_[A-Za-z0-9_-]{8,})"
    r"|(?P<param>(?<![A-Za-z0-9_])api_key=)[^&\s'\"]+"
    r"|(?P<bearer>\b[Bb]earer[ .])[A-Za-z0-9._~+/=-]{8,}",
)


def redact(text: str) -> str:
    """`text` with every API key, `api_key=` value and bearer credential masked."""

    def mask(match: re.Match[str]) -> str:
        prefix = match.group("param") or match.group("bearer") or ""
        return prefix + MASK

    return _SECRETS.sub(mask, text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


_installed = False


def install_log_redaction() -> None:
    """Wrap the log record factory once per process so every record is redacted."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
