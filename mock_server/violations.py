"""The one exception the rules raise: an error type of the API, with no HTTP status attached."""

from typing import Any


class RuleViolation(Exception):
    """`kind` is the API's `error.type`; the HTTP layer maps it to a status from the spec."""

    def __init__(
        self, kind: str, message: str, issues: list[dict[str, Any]] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.issues = issues
        self.extra = extra  # further fields of the error body, e.g. ONLIVE's canonicalRequest


class InjectedFault(RuleViolation):
    """An error the mock was told to answer with (admin faults, `Prefer: error=`), with its status if not documented."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(kind, message)
        self.status = status
