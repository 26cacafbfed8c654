"""`bookingkit spec diff OLD NEW`: what changed between two versions of a spec, and does it break clients?

Both documents are compared as data with their `$ref`s resolved, so key order, YAML style and component
renames change nothing. Request-side schemas break clients when they tighten; response-side schemas when
they promise less or can answer something new (an added enum value, an added error type, a raised maximum).
Written here because no Python library does this (the known tools, such as oasdiff, are not Python).
Paths, operations, parameters, bodies and responses are compared here; schemas in spec_diff_schemas, servers
and security scheme definitions in spec_diff_document.
"""

from typing import Any

from .documents import no_cyclic_gc
from .openapi import VERBS, deref, parameters
from .spec_changes import BREAKING, COMPATIBLE, Change
from .spec_diff_document import Document, server_urls
from .spec_diff_schemas import Schemas

__all__ = ["BREAKING", "COMPATIBLE", "Change", "diff"]


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    with no_cyclic_gc():  # the comparison makes no cycles; collecting over two large specs would double its time
        changes = _Differ(old, new).run()
    return sorted(set(changes), key=lambda c: (c.location, c.rule, c.message))


def _shape(path: str) -> str:
    """`/a/{x}` and `/a/{id}` are the same path to a client."""
    import re

    return re.sub(r"\{[^}]+\}", "{}", path)


class _Differ(Schemas, Document):
    def run(self) -> list[Change]:
        self.servers(server_urls(self.old), server_urls(self.new), ("servers",))
        self.security_schemes()
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
                    if any("servers" in node for node in (old_item, new_item, old_item[method], new_item[method])):
                        self.servers(
                            server_urls(old_item[method], old_item, self.old),
                            server_urls(new_item[method], new_item, self.new),
                            (*where, "servers"),
                        )
        return self.changes

    # -- an operation ------------------------------------------------------------------------------------

    def operation(self, old_path: str, new_path: str, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        self.texts(old, new, where)
        self.security(old, new, where)
        self.identity(old, new, where)
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
            self.deprecation(old_param, new_param, at, "request-parameter", f"{key[0]} parameter {key[1]}")
            self.texts(old_param, new_param, at)
            self.schema(old_param.get("schema"), new_param.get("schema"), (*at, "schema"), "request")
        self.request_body(old.get("requestBody"), new.get("requestBody"), (*where, "requestBody"))
        self.responses(old.get("responses") or {}, new.get("responses") or {}, (*where, "responses"))

    def identity(self, old: dict, new: dict, where: tuple[Any, ...]) -> None:
        """Neither changes what goes over the wire, but a reviewer wants both in the report."""
        if old.get("operationId") != new.get("operationId"):
            self.add(
                COMPATIBLE,
                "operation-id-changed",
                (*where, "operationId"),
                f"operationId {old.get('operationId')!r} became {new.get('operationId')!r}: the same request, but "
                "generated clients rename their method and code that calls it must follow",
            )
        self.deprecation(old, new, where, "operation", "the operation")

    def deprecation(self, old: dict, new: dict, where: tuple[Any, ...], kind: str, what: str) -> None:
        if new.get("deprecated") and not old.get("deprecated"):
            self.add(
                COMPATIBLE,
                f"{kind}-deprecated",
                (*where, "deprecated"),
                f"{what} is deprecated: clients should move off it",
            )
        elif old.get("deprecated") and not new.get("deprecated"):
            self.add(COMPATIBLE, f"{kind}-undeprecated", (*where, "deprecated"), f"{what} is no longer deprecated")

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
        elif old.get("required") and not new.get("required") and new:
            self.add(COMPATIBLE, "request-body-made-optional", where, "the request body may now be left out")
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
                    # The project's position, not oasdiff's (which reports it as information): a client written
                    # against the old list treats an undocumented status as a failure it has no branch for.
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
