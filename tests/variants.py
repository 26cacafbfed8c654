"""Variants of the mock: its source, spec or world changed by exact textual edits ("mutations"), served in a
fresh process. Broken variants (tests/broken_variants.py) prove the contract suite can fail; correct variants
(tests/correct_variants.py) make other choices the rules allow and prove the suite passes them.

An edit that no longer matches exactly once stops the variant with an error, so a refactor cannot silently
turn a variant into the working mock.

Run one: `python -m tests.variants broken|correct VARIANT PORT` (or `fd:N`, a listening socket inherited from
the caller).
"""

import importlib
import inspect
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC, WORLD = "openapi.yaml", "fixtures/default.yaml"
SCENARIOS = ("-m", "not schemathesis")
WHOLE_SUITE: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mutation:
    module: str  # a mock_server module, SPEC or WORLD
    old: str
    new: str


@dataclass(frozen=True)
class Variant:
    """`breaks`: rules whose tests must fail (none for a correct variant); `may_also_break`: related rules
    allowed to fail with them; `suite`: the pytest options that select the suite's tests to run against it;
    `profile`: changes to the bundled mock's target profile, per section (e.g. a booking window).
    """

    breaks: frozenset[str]
    mutations: tuple[Mutation, ...]
    may_also_break: frozenset[str] = frozenset()
    suite: tuple[str, ...] = SCENARIOS
    profile: dict[str, dict[str, Any]] = field(default_factory=dict)


def variant(breaks: str, *mutations: Mutation, also: str = "", suite: tuple[str, ...] = SCENARIOS) -> Variant:
    return Variant(frozenset(breaks.split()), mutations, frozenset(also.split()), suite)


def registry(kind: str) -> dict[str, Variant]:
    if kind == "broken":
        from .broken_variants import VARIANTS
    else:
        from .correct_variants import VARIANTS
    return VARIANTS


def apply(mutations: tuple[Mutation, ...]) -> tuple[Path, Path]:
    """Apply the edits in this process; returns the spec and world files to serve (edited copies)."""
    from bookingkit.files import DEFAULT_WORLD, SPEC_PATH

    texts = {SPEC: SPEC_PATH.read_text(encoding="utf-8"), WORLD: DEFAULT_WORLD.read_text(encoding="utf-8")}
    for mutation in mutations:
        if mutation.module in texts:
            texts[mutation.module] = _edit(texts[mutation.module], mutation, mutation.module)
            continue
        module = importlib.import_module(mutation.module)
        source = _edit(inspect.getsource(module), mutation, mutation.module)
        before = dict(module.__dict__)
        exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own source, edited
        _rebind(before, module.__dict__)
    folder = Path(tempfile.mkdtemp())
    (folder / "openapi.yaml").write_text(texts[SPEC], encoding="utf-8")
    (folder / "world.yaml").write_text(texts[WORLD], encoding="utf-8")
    return folder / "openapi.yaml", folder / "world.yaml"


def _rebind(before: dict, after: dict) -> None:
    """Modules that imported a name from the edited one (e.g. a package's re-export) get the new object."""
    replaced = {id(old): after[name] for name, old in before.items() if after.get(name) is not old}
    for name, module in list(sys.modules.items()):
        if name.startswith("mock_server"):
            for attribute, value in list(vars(module).items()):
                if id(value) in replaced:
                    setattr(module, attribute, replaced[id(value)])


def _edit(text: str, mutation: Mutation, where: str) -> str:
    count = text.count(mutation.old)
    if count != 1:
        raise SystemExit(f"mutation of {where} matches {count} times, not once: {mutation.old!r}")
    return text.replace(mutation.old, mutation.new)


def main() -> None:
    import uvicorn

    kind, name, where = sys.argv[1], sys.argv[2], sys.argv[3]
    spec_path, world_path = apply(registry(kind)[name].mutations)
    from mock_server.app import create_app  # imported after the edits, so it binds the broken code

    app = create_app(world_path, spec_path=spec_path)
    if where.startswith("fd:"):  # socket.socket(fileno=) reads the family from the socket; uvicorn's fd= assumes Unix
        inherited = socket.socket(fileno=int(where.removeprefix("fd:")))
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[inherited])
    else:
        uvicorn.run(app, host="127.0.0.1", port=int(where), log_level="warning")


if __name__ == "__main__":
    main()
