"""Log set-up (`HMTOCR_LOG_FORMAT`: text or json) and request ids.

Log records carry ids, codes and timings only: never a name, number, address or image byte. A record
may hold structured fields in `extra={"fields": {...}}`; the JSON format writes them as keys of the
line, the text format writes the message alone (which already says the same in `k=v` form).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

# What a client may send as X-Request-Id: short and printable, so it cannot forge log lines or
# headers (no spaces, quotes, control characters or non-ASCII).
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:,/+=@-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def new_request_id(now_s: float | None = None) -> str:
    """The vendor's form: `<unix seconds>,<uuid4>`."""
    return f"{int(time.time() if now_s is None else now_s)},{uuid.uuid4()}"


def client_request_id(value: bytes | None) -> str | None:
    """A client's X-Request-Id if it is safe to log and send back, else None."""
    if value is None:
        return None
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if _CLIENT_REQUEST_ID.fullmatch(text) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            # the type only: an exception's text may quote what was read from a card
            line["exc_type"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


JsonFormatter.converter = time.gmtime


def configure_logging(log_format: str = "text", level: int | str = logging.INFO, *, force: bool = False) -> None:
    """Root handler on stderr in the chosen format (uvicorn's own loggers propagate to it)."""
    root = logging.getLogger()
    if root.handlers and not force:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Its warnings quote bytes of the request body (which may be an ID card's).
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
