"""YAML and JSON documents read fast: JSON with `json`, YAML with libyaml's C loader when PyYAML has it (the
pure-Python loader takes about 50 s for a world of 100,000 bookings; `json` reads the same data in 0.3 s)."""

import gc
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STR, MAP, SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


_gc_lock = threading.Lock()
_gc_holders = [0, False]  # how many threads are inside no_cyclic_gc, and whether the collector was on before


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """A parse makes containers without cycles (recursive YAML aliases aside, which a later collection still
    finds), yet so many that the cycle collector runs over and over: without it a 1.4 MB spec loads in half the
    time. Counted under a lock, so threads that parse at once (the mock's --watch) leave the collector as found."""
    with _gc_lock:
        if _gc_holders[0] == 0:
            _gc_holders[1] = gc.isenabled()
            gc.disable()
        _gc_holders[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders[0] -= 1
            if _gc_holders[0] == 0 and _gc_holders[1]:
                gc.enable()


def parse(text: str) -> Any:
    """A JSON text (an object or array) with `json`, anything else as YAML; raises `yaml.YAMLError`."""
    with no_cyclic_gc():
        if text.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                pass  # YAML flow style, or a broken document: YAML says where
        return _yaml(text)


class _Unusual(Exception):
    """A node the fast builder leaves to PyYAML: a merge key, an explicit tag, a recursive alias, a list as key."""


def _yaml(text: str) -> Any:
    """PyYAML composes the nodes (in C with libyaml); plain maps, lists and strings are built here, the rest by
    PyYAML's safe constructor. Its generic machinery takes half the load time of a large spec; the result is the
    same, and any document this builder does not cover is loaded by PyYAML whole."""
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        built: dict[int, Any] = {}

        def build(node: Node) -> Any:
            if node.__class__ is ScalarNode:
                return node.value if node.tag == STR else loader.construct_object(node, deep=True)
            if id(node) in built:  # an alias: the same object, as PyYAML gives
                if built[id(node)] is _Unusual:
                    raise _Unusual  # recursive
                return built[id(node)]
            built[id(node)] = _Unusual
            if node.__class__ is MappingNode and node.tag == MAP:
                out: Any = {}
                for key, value in node.value:
                    if key.__class__ is ScalarNode and key.tag == STR:
                        out[key.value] = build(value)
                    elif key.tag == "tag:yaml.org,2002:merge":
                        raise _Unusual
                    else:
                        out[build(key)] = build(value)  # TypeError when unhashable
            elif node.__class__ is SequenceNode and node.tag == SEQ:
                out = [build(item) for item in node.value]
            else:
                raise _Unusual
            built[id(node)] = out
            return out

        try:
            return build(node)
        except (_Unusual, TypeError, RecursionError):
            pass
    finally:
        loader.dispose()
    return yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader
