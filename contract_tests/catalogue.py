"""The rule catalogue (docs/rules.md, shipped with the package): every rule id, its wording, kind and tests."""

import re
from dataclasses import dataclass
from pathlib import Path

from bookingkit.files import RULE_CATALOGUE

ROW = re.compile(r"^\| ([A-Z]+\d+) \| (.*) \| (.*?) \| (.*?) \|$")
TEST_NAME = re.compile(r"`(test_\w+)`")


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    kind: str  # "documented", "decision", or "documented (...: decision)"
    tests: tuple[str, ...]
    section: str


def load_catalogue(path: Path = RULE_CATALOGUE) -> list[Rule]:
    rules, section = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif match := ROW.match(line):
            rule_id, text, kind, tests = match.groups()
            rules.append(Rule(rule_id, text.strip(), kind.strip(), tuple(TEST_NAME.findall(tests)), section))
    return rules


def plain(text: str) -> str:
    """Markdown of a table cell as terminal text."""
    return text.replace("`", "").replace("<br>", "; ")


def render(rules: list[Rule]) -> str:
    """The catalogue for a terminal: a heading per section, one rule per line."""
    lines, section = [], None
    for rule in rules:
        if rule.section != section:
            section = rule.section
            lines += ["", section]
        lines.append(f"  {rule.id:<4} {plain(rule.kind):<34} {plain(rule.text)}")
    return "\n".join(lines).lstrip("\n")
