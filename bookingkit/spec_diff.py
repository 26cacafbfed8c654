"""`bookingkit spec diff OLD NEW`: what changed between two versions of a spec, and does it break clients?

Both documents are compared as data with their `$ref`s resolved, so key order, YAML style and component
renames change nothing. Request-side schemas break clients when they tighten; response-side schemas when
they promise less or can answer something new (an added enum value, an added error type).
Written here because no Python library does this (the known tools, such as oasdiff, are not Python).
"""

from dataclasses import dataclass
from typing import Any

from .openapi import VERBS, deref, parameters, pointer

BREAKING, COMPATIBLE = "breaking", "compatible"
UPPER = ("maxLength", "maximum", "maxItems", "maxProperties")
LOWER = ("minLength", "minimum", "minItems", "minProperties")


@dataclass(frozen=True)
class Change:
    severity: str
    rule: str
    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "rule": self.rule, "location": self.location, "message": self.message}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    return sorted(set(_Differ(old, new).run()), key=lambda c: (c.location, c.rule, c.message))


def _shape(path: str) -> str:
    """`/a/{x}` and `/a/{id}` are the same path to a client."""
    import re

    return re.sub(r"\{[^}]+\}", "{}", path)


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, severity: str, rule: str, where: tuple[Any, ...], message: str) -> None:
        self.changes.append(Change(severity, rule, pointer(*where), message))

    def run(self) -> list[Change]:
        old_paths = {_shape(p): p for p in (self.old.get("paths") or {})}
        new_paths = {_shape(p): p for p in (self.new.get("paths") or {})}
        for shape in sorted(old_paths.keys() - new_paths.keys()):
            self.add(BREAKING, "path-removed", ("paths", old_paths[shape]), f"path {old_paths[shape]} was removed")
        for shape in sorted(new_paths.keys() - old_paths.keys()):
            self.add(COMPATIBLE, "path-added", ("paths", new_paths[shape]), f"path {new_paths[shape]} was added")
        for shape in sorted(old_paths.keys() & new_paths.keys()):
            old_path, new_path = old_paths[shape], new_paths[shape]
            old_item, new_item = self.old["paths"][old_path], self.new["paths"][new_path]
            for method in VERBS:
                where = ("paths", new_path, method)
                if method in old_item and method not in new_item:
                    self.add(
                        BREAKING,
                        "operation-removed",
                        ("paths", old_path, method),
                        f"{method.upper()} {old_path} was removed",
                    )
                elif method in new_item and method not in old_item:
                    self.add(COMPATIBLE, "operation-added", where, f"{method.upper()} {new_path} was added")
                elif method in old_item:
                    self.operation(old_path, new_path, old_item[method], new_item[method], where)
        return self.changes

    # -- an operation ------------------------------------------------------------------------------------

    def operation(self, old_path: str, new_path: str, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        self.texts(old, new, where)
        self.security(old, new, where)
        old_params = {(p.get("in"), p.get("name")): p for p in parameters(self.old, old_path, old)}
        new_params = {(p.get("in"), p.get("name")): p for p in parameters(self.new, new_path, new)}
        for key in sorted(new_params.keys() - old_params.keys(), key=str):
            if key[0] == "path":
                continue  # a path parameter renamed is the same path to a client
            param, at = new_params[key], (*where, "parameters", f"{key[0]}:{key[1]}")
            if param.get("required"):
                self.add(BREAKING, "request-parameter-added-required", at, f"required {key[0]} parameter {key[1]}")
            else:
                self.add(COMPATIBLE, "request-parameter-added-optional", at, f"optional {key[0]} parameter {key[1]}")
        for key in sorted(old_params.keys() - new_params.keys(), key=str):
            if key[0] != "path":  # a path parameter renamed is the same path to a client
                self.add(
                    BREAKING,
                    "request-parameter-removed",
                    (*where, "parameters", f"{key[0]}:{key[1]}"),
                    f"{key[0]} parameter {key[1]} was removed (clients that send it are refused)",
                )
        for key in sorted(old_params.keys() & new_params.keys(), key=str):
            old_param, new_param, at = old_params[key], new_params[key], (*where, "parameters", f"{key[0]}:{key[1]}")
            if new_param.get("required") and not old_param.get("required"):
                self.add(BREAKING, "request-parameter-made-required", at, f"{key[1]} is now required")
            elif old_param.get("required") and not new_param.get("required"):
                self.add(COMPATIBLE, "request-parameter-made-optional", at, f"{key[1]} is now optional")
            self.texts(old_param, new_param, at)
            self.schema(old_param.get("schema"), new_param.get("schema"), (*at, "schema"), "request")
        self.request_body(old.get("requestBody"), new.get("requestBody"), (*where, "requestBody"))
        self.responses(old.get("responses") or {}, new.get("responses") or {}, (*where, "responses"))

    def texts(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        for field in ("summary", "description"):
            if (old or {}).get(field) != (new or {}).get(field):
                self.add(COMPATIBLE, f"{field}-changed", (*where, field), f"the {field} changed")

    def security(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        """Requirements are alternatives: a client that met one old alternative must still meet a new one."""

        def alternatives(spec: dict, operation: dict) -> list[dict[str, frozenset[str]]]:
            requirements = operation.get("security", spec.get("security")) or [{}]
            return [{name: frozenset(scopes or []) for name, scopes in r.items()} for r in requirements]

        def met_by(new_alt: dict[str, frozenset[str]], old_alt: dict[str, frozenset[str]]) -> bool:
            return all(name in old_alt and scopes <= old_alt[name] for name, scopes in new_alt.items())

        def label(alternative: dict[str, frozenset[str]]) -> str:
            return " + ".join(sorted(alternative)) or "no credentials"

        old_alts, new_alts = alternatives(self.old, old), alternatives(self.new, new)
        for old_alt in old_alts:
            if not any(met_by(new_alt, old_alt) for new_alt in new_alts):
                self.add(
                    BREAKING,
                    "security-requirement-added",
                    (*where, "security"),
                    f"clients with {label(old_alt)} are refused now",
                )
        for new_alt in new_alts:
            if not any(met_by(old_alt, new_alt) for old_alt in old_alts):
                self.add(
                    COMPATIBLE, "security-requirement-removed", (*where, "security"), f"also accepts {label(new_alt)}"
                )

    def request_body(self, old: Any, new: Any, where: tuple[Any, ...]) -> None:
        old, new = deref(self.old, old) or {}, deref(self.new, new) or {}
        if new.get("required") and not old.get("required"):
            self.add(BREAKING, "request-body-made-required", where, "a request body is now required")
        for media_type, media in (new.get("content") or {}).items():
            old_media = (old.get("content") or {}).get(media_type)
            if old_media is not None:
                self.schema(
                    old_media.get("schema"), media.get("schema"), (*where, "content", media_type, "schema"), "request"
                )
            elif old.get("content"):
                self.add(
                    COMPATIBLE, "request-media-type-added", (*where, "content", media_type), f"accepts {media_type}"
                )
        for media_type in (old.get("content") or {}).keys() - (new.get("content") or {}).keys():
            self.add(
                BREAKING,
                "request-media-type-removed",
                (*where, "content", media_type),
                f"no longer accepts {media_type}",
            )

    def responses(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        old, new = {str(k): v for k, v in old.items()}, {str(k): v for k, v in new.items()}  # 200 and '200' alike
        for status in sorted(set(old) | set(new)):
            at = (*where, status)
            success = str(status).startswith("2")
            if status in old and status not in new:
                if success:
                    self.add(BREAKING, "success-status-removed", at, f"no longer answers {status}")
                else:
                    self.add(COMPATIBLE, "error-response-removed", at, f"no longer answers {status}")
                continue
            if status in new and status not in old:
                if success:
                    self.add(COMPATIBLE, "success-status-added", at, f"may answer {status}")
                else:
                    self.add(BREAKING, "error-response-added", at, f"may now answer {status}: clients must handle it")
                continue
            old_response, new_response = deref(self.old, old[status]) or {}, deref(self.new, new[status]) or {}
            self.texts(old_response, new_response, at)
            for media_type, media in (new_response.get("content") or {}).items():
                old_media = (old_response.get("content") or {}).get(media_type)
                if old_media is not None:
                    self.schema(
                        old_media.get("schema"), media.get("schema"), (*at, "content", media_type, "schema"), "response"
                    )
            for media_type in (old_response.get("content") or {}).keys() - (new_response.get("content") or {}).keys():
                self.add(
                    BREAKING,
                    "response-media-type-removed",
                    (*at, "content", media_type),
                    f"no longer answers {media_type}",
                )

    # -- schemas -----------------------------------------------------------------------------------------

    def schema(self, old: Any, new: Any, where: tuple[Any, ...], side: str, seen: frozenset = frozenset()) -> None:
        key = (id(old), id(new))
        if key in seen or old is None or new is None:
            return
        seen = seen | {key}
        old, new = deref(self.old, old) or {}, deref(self.new, new) or {}
        request = side == "request"
        if old.get("type") != new.get("type") and old.get("type") and new.get("type"):
            self.add(BREAKING, f"{side}-type-changed", (*where, "type"), f"type {old['type']} became {new['type']}")
            return
        if old.get("type") and not new.get("type"):
            severity = COMPATIBLE if request else BREAKING  # a request takes more; a response may be anything
            self.add(severity, f"{side}-type-removed", (*where, "type"), f"type {old['type']} is no longer fixed")
        elif new.get("type") and not old.get("type"):
            self.add(
                BREAKING if request else COMPATIBLE,
                f"{side}-type-added",
                (*where, "type"),
                f"now of type {new['type']}",
            )
        self.texts(old, new, where)
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if old_enum is not None and new_enum is not None:
            for value in [v for v in new_enum if v not in old_enum]:
                self.add(
                    BREAKING if not request else COMPATIBLE,
                    f"{side}-enum-value-added",
                    (*where, "enum"),
                    f"new value {value!r}" + ("" if request else ": clients must handle it"),
                )
            for value in [v for v in old_enum if v not in new_enum]:
                self.add(
                    BREAKING if request else COMPATIBLE,
                    f"{side}-enum-value-removed",
                    (*where, "enum"),
                    f"value {value!r} removed",
                )
        elif new_enum is not None and request:
            self.add(BREAKING, "request-enum-added", (*where, "enum"), "values are now limited to an enumeration")
        elif old_enum is not None and not request:
            self.add(BREAKING, "response-enum-removed", (*where, "enum"), "values are no longer limited")
        if request:
            self.request_constraints(old, new, where)
            if old.get("nullable") and not new.get("nullable"):
                self.add(BREAKING, "request-nullable-removed", (*where, "nullable"), "null is refused now")
            elif new.get("nullable") and not old.get("nullable"):
                self.add(COMPATIBLE, "request-nullable-added", (*where, "nullable"), "null is accepted now")
        elif new.get("nullable") and not old.get("nullable"):
            self.add(BREAKING, "response-nullable-added", (*where, "nullable"), "may now be null")
        elif old.get("nullable") and not new.get("nullable") and not request:
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

    def request_constraints(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        for bound in UPPER:
            a, b = old.get(bound), new.get(bound)
            if b is not None and (a is None or b < a):
                self.add(BREAKING, "request-max-lowered", (*where, bound), f"{bound} {a} became {b}")
            elif a is not None and (b is None or b > a):
                self.add(COMPATIBLE, "request-max-raised", (*where, bound), f"{bound} {a} became {b}")
        for bound in LOWER:
            a, b = old.get(bound), new.get(bound)
            if b is not None and (a is None or b > a) and not (a is None and b == 0):
                self.add(BREAKING, "request-min-raised", (*where, bound), f"{bound} {a} became {b}")
            elif a is not None and (b is None or b < a):
                self.add(COMPATIBLE, "request-min-lowered", (*where, bound), f"{bound} {a} became {b}")
        for keyword in ("pattern", "format"):
            a, b = old.get(keyword), new.get(keyword)
            if b is not None and a != b:
                self.add(
                    BREAKING,
                    f"request-{keyword}-{'added' if a is None else 'changed'}",
                    (*where, keyword),
                    f"{keyword} {b!r}" + ("" if a is None else f" (was {a!r})"),
                )
            elif a is not None and b is None:
                self.add(COMPATIBLE, f"request-{keyword}-removed", (*where, keyword), f"{keyword} {a!r} removed")
        if old.get("additionalProperties", True) is not False and new.get("additionalProperties", True) is False:
            self.add(
                BREAKING,
                "request-additional-properties-refused",
                (*where, "additionalProperties"),
                "unknown fields are now refused",
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
