"""Reading OpenAPI 3.0 documents for the spec tools: load (file or `git:REF:PATH`), resolve local `$ref`s, walk."""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .documents import parse

VERBS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class SpecSourceError(Exception):
    """A spec that cannot be read; the message says which and why."""


def load(source: str) -> dict[str, Any]:
    """A file path, or `git:REF:PATH` (e.g. `git:main:openapi.yaml`) read from the repository here."""
    if source.startswith("git:"):
        _, _, rest = source.partition(":")
        ref, _, path = rest.partition(":")
        if not ref or not path:
            raise SpecSourceError(f"{source}: write git:REF:PATH, e.g. git:main:openapi.yaml")
        result = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, text=True)
        if result.returncode != 0:
            raise SpecSourceError(f"{source}: {result.stderr.strip() or 'git show failed'}")
        text = result.stdout
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecSourceError(f"{source}: cannot read ({exc.strerror})") from None
    try:
        document = parse(text)
    except yaml.YAMLError as exc:
        raise SpecSourceError(f"{source}: not valid YAML or JSON ({exc})") from None
    if not isinstance(document, dict):
        raise SpecSourceError(f"{source}: not an OpenAPI document")
    return document


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) from its parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def target(spec: dict[str, Any], ref: str) -> Any:
    """What a local `$ref` points at, or raises KeyError."""
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    while isinstance(node, dict) and "$ref" in node and depth < 50:
        node, depth = target(spec, node["$ref"]), depth + 1
    return node


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (spec.get("paths") or {}).items():
        for method in VERBS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                yield path, method, item[method]


def parameters(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """Path-level and operation-level parameters, the latter winning (by `in` and `name`)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for param in [*(spec["paths"][path].get("parameters") or []), *(operation.get("parameters") or [])]:
        param = deref(spec, param)
        if isinstance(param, dict):
            found[(param.get("in", ""), param.get("name", ""))] = param
    return list(found.values())


def template_names(path: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", path)


def refs(node: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every `$ref` in a document, with where it stands."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"], where
        for key, value in node.items():
            yield from refs(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from refs(value, (*where, index))
