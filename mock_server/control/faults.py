"""Latency and error injection per operation, and the per-request `Prefer: error=<type>` (issue: control),
`Prefer: code=NNN` and `Prefer: example=NAME` (as Prism has them; answers prepared in mock_server/control/prefer.py).

Seeded (`--seed`), so a run with faults can be repeated. Faults and `Prefer` never change state: the answer is
given before the handler runs.
"""

import asyncio
import math
import random
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.errors import ERROR_KIND
from mock_server.spec import SpecIndex
from mock_server.violations import InjectedFault, RuleViolation

ANY = "*"


@dataclass(frozen=True)
class Latency:
    distribution: str  # fixed | uniform | lognormal
    ms: float = 0
    min_ms: float = 0
    max_ms: float = 0
    mu: float = 0
    sigma: float = 0

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            return self.ms
        if self.distribution == "uniform":
            return rng.uniform(self.min_ms, self.max_ms)
        return math.exp(rng.gauss(self.mu, self.sigma))  # lognormal, in ms


@dataclass(frozen=True)
class FaultRule:
    latency: Latency | None = None
    error_type: str | None = None
    error_status: int | None = None
    probability: float = 1.0


class Faults:
    def __init__(self, index: SpecIndex, seed: int | None = None) -> None:
        self.index = index
        self.rules: dict[str, FaultRule] = {}
        self.raw: dict[str, Any] = {}
        self.rng = random.Random(seed)

    def set(self, document: dict[str, Any]) -> None:
        """Validate every rule first: a bad one changes nothing."""
        rules = {}
        for operation, spec in document.items():
            where = ["body", operation]
            if operation != ANY and operation not in self.index.api_of:
                raise _bad(where, f"no partner operation {operation!r}")
            error = spec.get("error") or {}
            kind, status = error.get("type"), error.get("status")
            if kind is not None:
                allowed = (
                    sorted({k for op in self.index.api_of for k in self.index.documented_errors(op)})
                    if operation == ANY
                    else self.index.documented_errors(operation)
                )
                if kind not in allowed:
                    raise _bad([*where, "error", "type"], f"{kind!r} is not documented here; allowed: {allowed}")
            latency = spec.get("latency")
            rules[operation] = FaultRule(
                latency=Latency(
                    latency["distribution"],
                    latency.get("ms", 0),
                    latency.get("minMs", 0),
                    latency.get("maxMs", 0),
                    latency.get("mu", 0),
                    latency.get("sigma", 0),
                )
                if latency
                else None,
                error_type=kind,
                error_status=status,
                probability=error.get("probability", 1.0),
            )
        self.rules, self.raw = rules, document

    def clear(self) -> None:
        self.rules, self.raw = {}, {}

    def for_operation(self, operation: str) -> list[FaultRule]:
        return [rule for key in (operation, ANY) if (rule := self.rules.get(key)) is not None]


def _bad(where: list[Any], message: str) -> RuleViolation:
    return RuleViolation("invalid_schema", "request validation failed", [{"path": where, "message": message}])


class FaultInjector:
    """connexion middleware after security: the caller is known, the request not yet handled."""

    def __init__(self, app: ASGIApp, *, faults: Faults, index: SpecIndex) -> None:
        self.app, self.faults, self.index = app, faults, index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        if scope["type"] != "http" or operation not in self.index.api_of:
            await self.app(scope, receive, send)
            return
        if header := Headers(scope=scope).get("prefer"):
            preferences = _preferences(header)
            if prefer := preferences.get("error"):
                allowed = self.index.documented_errors(operation)
                if prefer not in allowed:
                    raise _bad(["header", "Prefer"], f"{operation} does not document {prefer!r}; allowed: {allowed}")
                raise InjectedFault(prefer, f"answered as asked by 'Prefer: error={prefer}'")
            code, example = preferences.get("code"), preferences.get("example")
            if (code or example) and self.index.prefer is not None:
                canned = self.index.prefer.answer(operation, code, example)  # or a 400 naming what is documented
                if canned.error_kind:  # for the journal, which keeps the scope's `extensions` dict
                    scope.setdefault("extensions", {})[ERROR_KIND] = canned.error_kind
                await send({"type": "http.response.start", "status": canned.status, "headers": canned.headers})
                await send({"type": "http.response.body", "body": canned.body})
                return
        for rule in self.faults.for_operation(operation):
            if rule.latency is not None:
                await asyncio.sleep(max(0.0, rule.latency.draw(self.faults.rng)) / 1000)
            if (rule.error_type or rule.error_status) and self.faults.rng.random() < rule.probability:
                if rule.error_type and rule.error_type in self.index.documented_errors(operation):
                    raise InjectedFault(rule.error_type, "injected fault")
                if rule.error_status:
                    raise InjectedFault("internal_error", "injected fault", rule.error_status)
        await self.app(scope, receive, send)


def _preferences(header: str) -> dict[str, str]:
    """`Prefer: code=404, example=notFound` as {"code": "404", "example": "notFound"}; the first of a name wins."""
    found: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if value.strip():
            found.setdefault(name.strip().lower(), value.strip().strip('"'))
    return found
