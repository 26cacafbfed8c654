"""Schemas compared for `spec diff`: a request schema breaks clients when it accepts less, a response schema
when it may answer more. Each check therefore runs on both sides with the severities mirrored: raising a
`maxLength` is compatible in a request and breaking in a response, where values may now exceed what clients
validate. Request-side `default`s are compared too: a client that leaves a field out relies on its default."""

import re
from typing import Any

from .openapi import deref
from .spec_changes import BREAKING, COMPATIBLE, Recorder

UPPER = ("maxLength", "maximum", "maxItems", "maxProperties")
LOWER = ("minLength", "minimum", "minItems", "minProperties")
COUNTS = ("minLength", "minItems", "minProperties")  # no lower bound is the same as 0
PREFIXES = ("", "^", ".*", "^.*")  # P + R matches (search semantics) only strings that R matches
SUFFIXES = ("", "$", ".*$")


def within(inner: str, outer: str) -> bool:
    """Every string `inner` matches, `outer` matches too: provable here only when `inner` is `outer` with
    anchors or `.*` around it (e.g. `Z$` anchored as `^.*Z$`). Anything else is taken as not narrower."""
    if outer[:1] in ("*", "+", "?", "{", "") or outer.startswith("(?") and outer[2:3].isalpha():
        return False  # a leading quantifier or inline flag would bind to the prefix
    try:
        re.compile(inner), re.compile(outer)
    except re.error:
        return False
    return any(inner == p + outer + s for p in PREFIXES for s in SUFFIXES)


def _same(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b)  # 1 and True are different defaults


class Schemas(Recorder):
    def schema(self, old: Any, new: Any, where: tuple[Any, ...], side: str, seen: frozenset = frozenset()) -> None:
        key = (id(old), id(new))
        if key in seen or old is None or new is None:
            return
        seen = seen | {key}
        old, new = deref(self.old, old) or {}, deref(self.new, new) or {}
        request = side == "request"
        if not self.type(old, new, where, side):
            return
        self.texts(old, new, where)
        self.enum(old, new, where, side)
        self.bounds(old, new, where, side)
        self.pattern(old, new, where, side)
        self.format(old, new, where, side)
        if request:
            self.default(old, new, where)
            if old.get("additionalProperties", True) is not False and new.get("additionalProperties", True) is False:
                self.add(
                    BREAKING,
                    "request-additional-properties-refused",
                    (*where, "additionalProperties"),
                    "unknown fields are now refused",
                )
            if old.get("nullable") and not new.get("nullable"):
                self.add(BREAKING, "request-nullable-removed", (*where, "nullable"), "null is refused now")
            elif new.get("nullable") and not old.get("nullable"):
                self.add(COMPATIBLE, "request-nullable-added", (*where, "nullable"), "null is accepted now")
        elif new.get("nullable") and not old.get("nullable"):
            self.add(BREAKING, "response-nullable-added", (*where, "nullable"), "may now be null")
        elif old.get("nullable") and not new.get("nullable"):
            self.add(COMPATIBLE, "response-nullable-removed", (*where, "nullable"), "is never null now")
        self.properties(old, new, where, side, seen)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.schema(old["items"], new["items"], (*where, "items"), side, seen)
        for combinator in ("allOf", "oneOf", "anyOf"):
            old_branches, new_branches = old.get(combinator) or [], new.get(combinator) or []
            for index, (a, b) in enumerate(zip(old_branches, new_branches, strict=False)):
                self.schema(a, b, (*where, combinator, index), side, seen)
            if combinator != "allOf" and old_branches and new_branches and len(new_branches) != len(old_branches):
                more = len(new_branches) > len(old_branches)
                # More alternatives: a response may answer a new shape; fewer: a request accepts fewer shapes.
                self.add(
                    BREAKING if more != request else COMPATIBLE,
                    f"{side}-{combinator}-branch-{'added' if more else 'removed'}",
                    (*where, combinator),
                    f"{len(old_branches)} alternatives became {len(new_branches)}",
                )

    def type(self, old: dict, new: dict, where: tuple[Any, ...], side: str) -> bool:
        """False when the types differ outright: then nothing else about the two schemas compares."""
        a, b, request, at = old.get("type"), new.get("type"), side == "request", (*where, "type")
        if a and b and a != b:
            if isinstance(a, str) and isinstance(b, str) and {a, b} == {"integer", "number"}:
                widened = b == "number"  # every integer is a number, not every number an integer
                if widened:
                    why = "every integer is still accepted" if request else "answers may now carry fractions"
                else:
                    why = "fractions are refused now" if request else "every answer is still a number"
                self.add(
                    COMPATIBLE if widened == request else BREAKING,
                    f"{side}-type-{'widened' if widened else 'narrowed'}",
                    at,
                    f"type {a} became {b}: {why}",
                )
                return True
            self.add(BREAKING, f"{side}-type-changed", at, f"type {a} became {b}")
            return False
        if a and not b:
            severity = COMPATIBLE if request else BREAKING  # a request takes more; a response may be anything
            self.add(severity, f"{side}-type-removed", at, f"type {a} is no longer fixed")
        elif b and not a:
            self.add(BREAKING if request else COMPATIBLE, f"{side}-type-added", at, f"now of type {b}")
        return True

    def enum(self, old: dict, new: dict, where: tuple[Any, ...], side: str) -> None:
        old_enum, new_enum, request, at = old.get("enum"), new.get("enum"), side == "request", (*where, "enum")
        if old_enum is not None and new_enum is not None:
            for value in [v for v in new_enum if v not in old_enum]:
                self.add(
                    COMPATIBLE if request else BREAKING,
                    f"{side}-enum-value-added",
                    at,
                    f"new value {value!r}" + ("" if request else ": clients must handle it"),
                )
            for value in [v for v in old_enum if v not in new_enum]:
                self.add(
                    BREAKING if request else COMPATIBLE, f"{side}-enum-value-removed", at, f"value {value!r} removed"
                )
        elif new_enum is not None:
            self.add(
                BREAKING if request else COMPATIBLE,
                f"{side}-enum-added",
                at,
                "values are now limited to an enumeration",
            )
        elif old_enum is not None:
            self.add(COMPATIBLE if request else BREAKING, f"{side}-enum-removed", at, "values are no longer limited")

    def bounds(self, old: dict, new: dict, where: tuple[Any, ...], side: str) -> None:
        """A lower maximum or a higher minimum accepts less: breaking in a request, compatible in a response."""
        request = side == "request"
        for bound in UPPER:
            a, b = old.get(bound), new.get(bound)
            if b is not None and (a is None or b < a):
                self.add(
                    BREAKING if request else COMPATIBLE,
                    f"{side}-max-lowered",
                    (*where, bound),
                    f"{bound} {a} became {b}",
                )
            elif a is not None and (b is None or b > a):
                why = "" if request else ": values may exceed what clients validate"
                self.add(
                    COMPATIBLE if request else BREAKING,
                    f"{side}-max-raised",
                    (*where, bound),
                    f"{bound} {a} became {b}{why}",
                )
        for bound in LOWER:
            floor = 0 if bound in COUNTS else None
            a, b = old.get(bound), new.get(bound)
            low, high = floor if a is None else a, floor if b is None else b
            if high is not None and (low is None or high > low):
                self.add(
                    BREAKING if request else COMPATIBLE,
                    f"{side}-min-raised",
                    (*where, bound),
                    f"{bound} {a} became {b}",
                )
            elif low is not None and (high is None or high < low):
                why = "" if request else ": values may fall below what clients validate"
                self.add(
                    COMPATIBLE if request else BREAKING,
                    f"{side}-min-lowered",
                    (*where, bound),
                    f"{bound} {a} became {b}{why}",
                )

    def pattern(self, old: dict, new: dict, where: tuple[Any, ...], side: str) -> None:
        """A changed pattern counts as accepting other values unless it is provably narrower (see `within`)."""
        a, b, at = old.get("pattern"), new.get("pattern"), (*where, "pattern")
        if a == b:
            return
        if side == "request":
            if a is None:
                self.add(BREAKING, "request-pattern-added", at, f"pattern {b!r}")
            elif b is None:
                self.add(COMPATIBLE, "request-pattern-removed", at, f"pattern {a!r} removed")
            elif within(a, b):
                self.add(
                    COMPATIBLE,
                    "request-pattern-loosened",
                    at,
                    f"pattern {a!r} became {b!r}, which still accepts every value the old one did",
                )
            else:
                self.add(BREAKING, "request-pattern-changed", at, f"pattern {b!r} (was {a!r})")
        elif a is None:
            self.add(COMPATIBLE, "response-pattern-added", at, f"answers now match {b!r}")
        elif b is None:
            self.add(
                BREAKING, "response-pattern-removed", at, f"pattern {a!r} removed: values may fail clients' checks"
            )
        elif within(b, a):
            self.add(
                COMPATIBLE,
                "response-pattern-tightened",
                at,
                f"pattern {a!r} became {b!r}, which matches only values the old one matched",
            )
        else:
            self.add(
                BREAKING,
                "response-pattern-changed",
                at,
                f"pattern {b!r} (was {a!r}), not provably narrower: values may fail clients' checks",
            )

    def format(self, old: dict, new: dict, where: tuple[Any, ...], side: str) -> None:
        a, b, at = old.get("format"), new.get("format"), (*where, "format")
        if a == b:
            return
        if side == "request":
            if b is not None:
                rule = f"request-format-{'added' if a is None else 'changed'}"
                self.add(BREAKING, rule, at, f"format {b!r}" + ("" if a is None else f" (was {a!r})"))
            else:
                self.add(COMPATIBLE, "request-format-removed", at, f"format {a!r} removed")
        elif a is None:
            self.add(COMPATIBLE, "response-format-added", at, f"answers now have format {b!r}")
        elif b is None:
            self.add(BREAKING, "response-format-removed", at, f"format {a!r} removed: clients may not parse values")
        else:
            self.add(BREAKING, "response-format-changed", at, f"format {b!r} (was {a!r})")

    def default(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        """A client that leaves a value out gets the default: changing it changes what that client asks for."""
        at = (*where, "default")
        if "default" in old and "default" in new:
            if not _same(old["default"], new["default"]):
                self.add(
                    BREAKING,
                    "request-default-changed",
                    at,
                    f"default {old['default']!r} became {new['default']!r}: clients that leave it out get the new one",
                )
        elif "default" in old:
            self.add(
                BREAKING,
                "request-default-removed",
                at,
                f"default {old['default']!r} removed: clients that leave it out no longer get it",
            )
        elif "default" in new:
            self.add(
                COMPATIBLE, "request-default-added", at, f"default {new['default']!r} where the value was unspecified"
            )

    def properties(self, old: dict, new: dict, where: tuple[Any, ...], side: str, seen: frozenset) -> None:
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        request = side == "request"
        for name in sorted(new_props.keys() - old_props.keys()):
            at = (*where, "properties", name)
            if request and name in new_required:
                self.add(BREAKING, "request-property-added-required", at, f"required field {name}")
            else:
                self.add(COMPATIBLE, f"{side}-property-added{'-optional' if request else ''}", at, f"new field {name}")
        for name in sorted(old_props.keys() - new_props.keys()):
            at = (*where, "properties", name)
            if request:
                refused = new.get("additionalProperties", True) is False
                self.add(
                    BREAKING if refused else COMPATIBLE,
                    "request-property-removed",
                    at,
                    f"field {name} removed" + (" (clients that send it are refused)" if refused else ""),
                )
            else:
                self.add(BREAKING, "response-property-removed", at, f"field {name} is no longer returned")
        for name in sorted(old_props.keys() & new_props.keys()):
            at = (*where, "properties", name)
            if name in new_required and name not in old_required:
                self.add(
                    BREAKING if request else COMPATIBLE, f"{side}-property-made-required", at, f"{name} is now required"
                )
            elif name in old_required and name not in new_required:
                self.add(
                    COMPATIBLE if request else BREAKING,
                    f"{side}-property-made-optional",
                    at,
                    f"{name} is now optional" + ("" if request else ": it may be missing"),
                )
            self.schema(old_props[name], new_props[name], at, side, seen)
