"""What `spec diff` reports: a change with its severity, rule and JSON pointer, and the recorder the comparisons
(spec_diff, spec_diff_schemas, spec_diff_document) share, so each area of the spec is compared in its own module."""

from dataclasses import dataclass
from typing import Any

from .openapi import pointer

BREAKING, COMPATIBLE = "breaking", "compatible"


@dataclass(frozen=True)
class Change:
    severity: str
    rule: str
    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "rule": self.rule, "location": self.location, "message": self.message}


class Recorder:
    """Both documents, and the changes found so far."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, severity: str, rule: str, where: tuple[Any, ...], message: str) -> None:
        self.changes.append(Change(severity, rule, pointer(*where), message))

    def texts(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        for field in ("summary", "description"):
            if (old or {}).get(field) != (new or {}).get(field):
                self.add(COMPATIBLE, f"{field}-changed", (*where, field), f"the {field} changed")
