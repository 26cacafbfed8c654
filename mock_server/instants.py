"""Instants in requests: any RFC 3339 offset or fraction (B6); an unrepresentable one is `invalid_schema`."""

from datetime import datetime
from typing import Any

from mock_server.timestamps import InvalidInstant, parse_instant
from mock_server.violations import RuleViolation


def instant(value: str, where: list[Any]) -> datetime:
    """`where` is the issue path, e.g. `["body", "startDate"]`."""
    try:
        return parse_instant(value)
    except InvalidInstant as exc:
        raise RuleViolation(
            "invalid_schema", "request validation failed", [{"path": where, "message": str(exc)}]
        ) from None
