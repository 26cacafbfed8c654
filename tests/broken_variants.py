"""Deliberately broken variants of the mock, to prove that the contract suite can fail.

Each variant is a set of exact textual edits ("mutations") of the mock's source or spec, applied in a fresh
process before the app is built; an edit that no longer matches exactly once stops the variant with an error,
so a refactor cannot silently turn a variant into the working mock.

Run one: `python -m tests.broken_variants VARIANT PORT` (or `fd:N`, a listening socket inherited from the caller).
"""

import importlib
import inspect
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SPEC, WORLD = "openapi.yaml", "fixtures/default.yaml"


@dataclass(frozen=True)
class Mutation:
    module: str  # a mock_server module, SPEC or WORLD
    old: str
    new: str


SCENARIOS = ("-m", "not schemathesis")


@dataclass(frozen=True)
class Variant:
    """`breaks`: rules whose tests must fail; `may_also_break`: related rules allowed to fail with them;
    `suite`: the pytest options that select the suite's tests to run against it.
    """

    breaks: frozenset[str]
    mutations: tuple[Mutation, ...]
    may_also_break: frozenset[str] = frozenset()
    suite: tuple[str, ...] = SCENARIOS


def variant(breaks: str, *mutations: Mutation, also: str = "", suite: tuple[str, ...] = SCENARIOS) -> Variant:
    return Variant(frozenset(breaks.split()), mutations, frozenset(also.split()), suite)


BOOKINGS, STORE, ACCESS = "mock_server.domain.bookings", "mock_server.store.memory", "mock_server.domain.access"
VALIDATION = "mock_server.validation"
SERVICES, SIGNED = "mock_server.domain.onlive.services", "mock_server.domain.onlive.authentication"

VARIANTS: dict[str, Variant] = {
    "older-upsert-accepted": variant(
        "B2",
        Mutation(BOOKINGS, "            if version < stored.external_updated_at:\n", "            if False:\n"),
        also="B6 A4",
    ),
    "idempotent-repeat-moves-updated-at": variant(
        "B3",
        Mutation(
            BOOKINGS,
            "                    return stored  # B3: idempotent repeat, nothing changes\n",
            "                    stored = replace(stored, updated_at=self.clock.now_after(stored.updated_at))\n"
            "                    self.store.put_booking(stored)\n"
            "                    return stored\n",
        ),
        also="B6 B7",
    ),
    "changed-payload-at-same-version-accepted": variant(
        "B4",
        Mutation(
            BOOKINGS,
            '                raise RuleViolation("version_conflict",',
            '                pass  # ("version_conflict",',
        ),
        also="B6 B7",
    ),
    "replace-resets-created-at": variant("B5", Mutation(BOOKINGS, "created_at=stored.created_at,", "created_at=now,")),
    "five-participants-accepted": variant(
        "B8", Mutation(SPEC, "maxItems: 4\n          uniqueItems: true", "maxItems: 5\n          uniqueItems: true")
    ),
    "both-user-id-and-email-accepted": variant(
        "B9",
        Mutation(
            SPEC, "maxProperties: 1\n      description: Exactly one", "maxProperties: 2\n      description: Exactly one"
        ),
        Mutation(BOOKINGS, "if (user_id is None) == (email is None):", "if user_id is None and email is None:"),
    ),
    "duplicate-participants-accepted": variant(
        "B10",
        Mutation(SPEC, "uniqueItems: true\n          x-error-types:", "uniqueItems: false\n          x-error-types:"),
        Mutation(BOOKINGS, "    if len(set(participants)) != len(participants):", "    if False:"),
    ),
    "emails-not-lowercased": variant(
        "B11", Mutation(BOOKINGS, "Participant(email=email.lower())", "Participant(email=email)"), also="B7 B10 B25"
    ),
    "start-equal-to-end-accepted": variant("B12", Mutation(BOOKINGS, "if not start < end:", "if start > end:")),
    "touching-bookings-refused": variant(
        "B13",
        Mutation(
            STORE,
            "return candidate if candidate.end > start else None",
            "return candidate if candidate.end >= start else None",
        ),
        Mutation(WORLD, 'startDate: "2020-03-02T11:00:00Z"', 'startDate: "2020-03-02T11:30:00Z"'),  # seeds touch
    ),
    "overlaps-not-checked": variant(
        "B13",
        Mutation(
            STORE,
            "        index = self._court_index.get(court_id)\n        if not index:",
            "        index = None\n        if not index:",
        ),
        also="B14 A4",
    ),
    "delete-of-missing-booking-is-404": variant(
        "B17",
        Mutation(
            BOOKINGS,
            "        if isinstance(stored, Booking) and version < stored.external_updated_at:\n",
            '        if stored is None:\n            raise RuleViolation("court_not_found", "no such booking")\n'
            "        if isinstance(stored, Booking) and version < stored.external_updated_at:\n",
        ),
        also="B21 B27",
    ),
    "older-delete-accepted": variant(
        "B18",
        Mutation(
            BOOKINGS,
            "        if isinstance(stored, Booking) and version < stored.external_updated_at:\n",
            "        if False:\n",
        ),
    ),
    "repeated-delete-is-stale": variant(
        "B19",
        Mutation(
            BOOKINGS,
            "            return  # B19: a repeat; the tombstone keeps the newest delete\n",
            '            raise RuleViolation("stale_write", "already deleted")\n',
        ),
    ),
    "deleted-booking-stays-in-list": variant(
        "B20",
        Mutation(
            STORE,
            "        self._unindex(key)\n        self._records[key] = tombstone\n",
            "        old = self._records.get(key)\n        self._unindex(key)\n"
            "        if isinstance(old, Booking):\n            self._service_index[old.service_id].add(old)\n"
            "        self._records[key] = tombstone\n",
        ),
        also="B21 B23 B24 B25",
    ),
    "tombstone-ignored": variant(
        "B21",
        Mutation(
            BOOKINGS,
            "        if isinstance(stored, Tombstone) and version <= stored.external_updated_at:\n            raise",
            "        if False:\n            raise",
        ),
    ),
    "list-sorted-ascending": variant(
        "B23",
        Mutation(
            STORE,
            "    return (-to_micros(booking.updated_at), booking.seq)",
            "    return (to_micros(booking.updated_at), booking.seq)",
        ),
        also="B24 B25",
    ),
    "other-service-reads-bookings": variant(
        "B27",
        Mutation("mock_server.security", "            require_own_service(token, path_service)", "            pass"),
        Mutation(
            "mock_server.handlers.court_bookings",
            "self.bookings.get(user, externalCourtBookingId)",
            "self.bookings.get(externalServiceId, externalCourtBookingId)",
        ),
        also="A4",
    ),
    "expired-token-accepted": variant(
        "A1", Mutation(ACCESS, "    if token.expires_at is not None and token.expires_at <= now:", "    if False:")
    ),
    "read-level-may-write": variant(
        "A2", Mutation(ACCESS, "    if LEVELS[held] < LEVELS[level]:", '    if held == "none":'), also="A3 A4"
    ),
    "delete-answers-without-deleted-at": variant(
        "O1", Mutation(SERVICES, "        return deleted\n", "        return service\n")
    ),
    "active-appointments-ignored": variant(
        "O3",
        Mutation(
            SERVICES,
            "        if any(a.blocks_service_delete(now)",
            "        if False and any(a.blocks_service_delete(now)",
        ),
    ),
    "other-organizations-services-visible": variant(
        "O4", Mutation(SERVICES, " or service.organization_id != organization_id:", ":")
    ),
    "date-window-not-checked": variant(
        "O6", Mutation(SIGNED, "    if not signing.within_window(moment, now):", "    if False:")
    ),
    "signature-not-checked": variant(
        "O6", Mutation(SIGNED, "    if not hmac.compare_digest(", "    if False and not hmac.compare_digest(")
    ),
    # The suite's schemathesis run, with its own checks: an error type the operation does not document (A5) ...
    "undocumented-error-type": variant(
        "schemathesis",
        Mutation(VALIDATION, 'RuleViolation("invalid_schema", "request', 'RuleViolation("validation_error", "request'),
        suite=("-m", "schemathesis", "-k", "wingfield"),
    ),
    # ... and a refused signature of the run's own (the mock's signer leaves the query string out).
    "signature-without-query": variant(
        "schemathesis",
        Mutation(
            SIGNED,
            "canonical_request(method, raw_path, raw_query, date",
            'canonical_request(method, raw_path, "", date',
        ),
        suite=("-m", "schemathesis", "-k", "onlive"),
    ),
}


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

    name, where = sys.argv[1], sys.argv[2]
    spec_path, world_path = apply(VARIANTS[name].mutations)
    from mock_server.app import create_app  # imported after the edits, so it binds the broken code

    app = create_app(world_path, spec_path=spec_path)
    if where.startswith("fd:"):  # socket.socket(fileno=) reads the family from the socket; uvicorn's fd= assumes Unix
        inherited = socket.socket(fileno=int(where.removeprefix("fd:")))
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[inherited])
    else:
        uvicorn.run(app, host="127.0.0.1", port=int(where), log_level="warning")


if __name__ == "__main__":
    main()
