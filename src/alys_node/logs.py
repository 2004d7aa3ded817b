"""stderr logging: plain text, or JSON lines ({"ts", "level", "msg", ...extra}) with --log-json."""

from __future__ import annotations

import json
import logging
import sys

_STD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        d = {"ts": record.created, "level": record.levelname.lower(), "msg": record.getMessage()}
        d["logger"] = record.name
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                d[k] = v if isinstance(v, str | int | float | bool | type(None)) else repr(v)
        if record.exc_info:
            d["exc"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(d)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STD and not k.startswith("_")
        )
        return (
            f"{record.created:.3f} {record.levelname:<7} {record.name}: {record.getMessage()}"
            + (f" {extra}" if extra else "")
        )


def setup(json_lines: bool, level: int = logging.INFO) -> None:
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [h]
    root.setLevel(level)
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
