"""Findings and changes as text, JSON, Markdown or JUnit XML, for people and for CI."""

import json
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from .spec_diff import BREAKING, Change

if TYPE_CHECKING:  # spec_check imports the OpenAPI validator (0.2 s), which `spec diff` does not need
    from .spec_check import Finding


def check_report(findings: "list[Finding]", form: str) -> str:
    if form == "json":
        return json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2)
    lines = [f"{f.location}: {f.rule}: {f.message}" for f in findings]
    return "\n".join([*lines, f"{len(findings)} finding(s)" if findings else "no findings"])


def diff_report(changes: list[Change], form: str, old: str, new: str) -> str:
    breaking = [c for c in changes if c.severity == BREAKING]
    summary = f"{len(breaking)} breaking, {len(changes) - len(breaking)} compatible change(s) from {old} to {new}"
    if form == "json":
        return json.dumps(
            {"old": old, "new": new, "changes": [c.as_dict() for c in changes], "breaking": len(breaking)}, indent=2
        )
    if form == "markdown":
        rows = [f"| {c.severity} | `{c.rule}` | `{c.location}` | {c.message.replace('|', '/')} |" for c in changes]
        table = ["| severity | rule | where | what |", "|---|---|---|---|", *rows] if changes else ["No changes."]
        return "\n".join([f"## API changes: {summary}", "", *table])
    if form == "junit":
        return _junit(changes, summary)
    lines = [f"{c.severity:<10} {c.rule}: {c.location}: {c.message}" for c in changes]
    return "\n".join([*lines, summary])


def _junit(changes: list[Change], summary: str) -> str:
    """One test case per change; breaking ones fail, so CI tools show them as failures."""
    cases = []
    for change in changes:
        name = quoteattr(f"{change.rule} {change.location}")
        body = ""
        if change.severity == BREAKING:
            body = f"<failure message={quoteattr(change.message)}>{escape(change.location)}</failure>"
        cases.append(f'    <testcase classname="bookingkit.spec.diff" name={name}>{body}</testcase>')
    failures = sum(c.severity == BREAKING for c in changes)
    return "\n".join(
        [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<testsuite name="bookingkit spec diff" tests="{len(changes)}" failures="{failures}" errors="0">',
            f'  <properties><property name="summary" value={quoteattr(summary)}/></properties>',
            *cases,
            "</testsuite>",
        ]
    )


def should_fail(changes: list[Change], fail_on: str) -> bool:
    if fail_on == "none":
        return False
    if fail_on == "any":
        return bool(changes)
    return any(c.severity == BREAKING for c in changes)


__all__: list[Any] = ["check_report", "diff_report", "should_fail"]
