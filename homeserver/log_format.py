"""Log output: ``log_format: text`` (one "time LEVEL logger: message" line per record) or
``json`` (one JSON object per line, for log shippers). A record logged with
``extra={"fields": {...}}`` (the access line of ``api/request_log.py``) carries those fields as
keys of its JSON object.

Every record made while a request is handled carries its ``request_id`` (the ``X-Request-Id``
of the response): JSON lines have the key, text lines end with ``[request_id=...]`` (the access
line has it in its message already), so an error's traceback can be found from a user's report.
"""

from __future__ import annotations

import json
import logging
import re

from flask import g, has_request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        if request_id and getattr(record, "fields", None) is None:
            line += f" [request_id={request_id}]"
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            out["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                out.setdefault(key, value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class SqlWithoutParameters(logging.Filter):
    """peewee logs each query at DEBUG as (sql, params): keep the SQL, drop the parameters,
    which hold registration tokens, user input and the like."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            record.msg = f"{record.msg[0]} [parameters not logged]"
            record.args = ()
        return True


_QUERY_SECRET = re.compile(r"((?:access_token|token|password)=)[^&\s\"]*", re.IGNORECASE)


class QuerySecrets(logging.Filter):
    """The development server's request lines (werkzeug) carry query strings: blank the values
    of access_token and the like."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY_SECRET.sub(r"\1<redacted>", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _add_once(logger_name: str, filter_type: type) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, filter_type) for f in logger.filters):
        logger.addFilter(filter_type())


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if has_request_context():
        record.request_id = g.get("request_id")
    return record


def configure(level: str, log_format: str) -> None:
    """Secrets stay out of library log lines and records made in a request carry its ID; then,
    like logging.basicConfig, a handler only when the root logger has none yet (a host such as
    pytest may have set up its own)."""
    _add_once("peewee", SqlWithoutParameters)
    _add_once("werkzeug", QuerySecrets)
    logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
