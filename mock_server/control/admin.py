"""Handlers of the admin API (admin.yaml): thin, over the Runtime that owns state, clock, faults and journal.
Every change of the clock or the faults is published to the backend, for the other workers."""

import hmac
from datetime import datetime, timedelta
from typing import Any

from connexion.security import BearerSecurityHandler
from starlette.responses import StreamingResponse

from mock_server.control.journal import MatcherError, RequestMatcher
from mock_server.store.backend import JOURNAL_SIZE
from mock_server.timestamps import InvalidInstant, format_instant, parse_instant
from mock_server.violations import RuleViolation
from mock_server.wingfield.handlers.people import relation_json
from mock_server.world import WorldError


class AdminHandlers:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    async def resetWorld(self) -> dict[str, Any]:
        self.runtime.reset()
        return {"status": "reset to the loaded world"}

    async def loadFixtures(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            self.runtime.load_world_document(body)
        except WorldError as exc:
            raise _refused(["body"], str(exc)) from None
        return {"status": "loaded the new world"}

    async def exportState(self) -> StreamingResponse:
        """Streamed: a large state is never one string in memory."""
        return StreamingResponse(self.runtime.export_state(), media_type="application/json")

    async def importState(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            self.runtime.import_state(body)
        except WorldError as exc:
            raise _refused(["body"], str(exc)) from None
        return {"status": "imported"}

    async def getClock(self) -> dict[str, Any]:
        return self._clock()

    async def setClock(self, body: dict[str, Any]) -> dict[str, Any]:
        clock = self.runtime.clock
        if "freezeAt" in body:
            try:
                target = parse_instant(body["freezeAt"])
            except InvalidInstant as exc:
                raise _refused(["body", "freezeAt"], str(exc)) from None
            clock.freeze(_within_range(target, "freezeAt"))
        elif body.get("freeze"):
            clock.freeze()
        elif "shiftSeconds" in body:
            try:
                _within_range(clock.now() + timedelta(seconds=body["shiftSeconds"]), "shiftSeconds")
            except OverflowError:
                raise _refused(["body", "shiftSeconds"], "the clock would leave the years 1970 to 9000") from None
            clock.shift(timedelta(seconds=body["shiftSeconds"]))
        elif body.get("run"):
            clock.run()
        elif body.get("reset"):
            clock.reset()
        self.runtime.publish_clock()
        return self._clock()

    async def getFaults(self) -> dict[str, Any]:
        return self.runtime.faults.raw

    async def setFaults(self, body: dict[str, Any]) -> dict[str, Any]:
        self.runtime.faults.set(body)
        self.runtime.publish_faults()
        return self.runtime.faults.raw

    async def clearFaults(self) -> dict[str, Any]:
        self.runtime.faults.clear()
        self.runtime.publish_faults()
        return self.runtime.faults.raw

    async def answerUserRelation(self, body: dict[str, Any]) -> dict[str, Any]:
        """R8: the user's answer, given inside Wingfield; one transaction like a partner request."""

        async def answer() -> dict[str, Any]:
            relation = self.runtime.user_relations.answer(body["externalServiceId"], body["userId"], body["status"])
            return relation_json(relation, self.runtime.store.user(relation.user_id))

        return await self._write(answer)

    async def issueConnectToken(self, body: dict[str, Any]) -> dict[str, Any]:
        """G1: what an organization does outside the partner API."""
        expires_at = None
        if "expiresAt" in body:
            try:
                expires_at = parse_instant(body["expiresAt"])
            except InvalidInstant as exc:
                raise _refused(["body", "expiresAt"], str(exc)) from None

        async def issue() -> dict[str, Any]:
            token = self.runtime.organizations.issue_token(
                body["organizationId"], expires_at, body.get("state", "OPEN")
            )
            return {
                "connectToken": token.value,
                "organizationId": token.organization_id,
                "expiresAt": format_instant(token.expires_at),
                "state": token.state,
            }

        return await self._write(issue)

    async def _write(self, call: Any) -> dict[str, Any]:
        try:
            return await self.runtime.backend.run(call, write=True)
        except RuleViolation as exc:
            raise _refused(["body"], f"{exc.kind}: {exc.message}") from None

    async def listRequests(self, limit: int = 100) -> dict[str, Any]:
        return {"items": self.runtime.backend.journal_last(limit)}

    async def findRequests(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"items": self._matching(body)}

    async def countRequests(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"count": len(self._matching(body))}

    def _matching(self, matcher: dict[str, Any]) -> list[dict[str, Any]]:
        """Filtered here, not in the database: at most JOURNAL_SIZE entries, and the same on every store."""
        try:
            select = RequestMatcher(matcher)
        except MatcherError as exc:
            raise _refused(["body", exc.field], str(exc)) from None
        return [entry for entry in self.runtime.backend.journal_last(JOURNAL_SIZE) if select.matches(entry)]

    async def clearRequests(self) -> dict[str, Any]:
        self.runtime.backend.journal_clear()
        return {"status": "cleared"}

    def _clock(self) -> dict[str, Any]:
        clock = self.runtime.clock
        return {
            "now": format_instant(clock.now()),
            "frozen": clock.frozen,
            "offsetSeconds": round(clock.offset.total_seconds(), 3),
        }


def _within_range(moment: datetime, field: str) -> datetime:
    """Timestamps are compared and stepped (B5): the clock stays well inside what datetime can hold."""
    if not 1970 <= moment.year <= 9000:
        raise _refused(["body", field], "the clock must stay within the years 1970 to 9000")
    return moment


def _refused(where: list[Any], message: str) -> RuleViolation:
    return RuleViolation("invalid_schema", message, [{"path": where, "message": message}])


def admin_gate(token: str) -> type[BearerSecurityHandler]:
    """Only the admin token opens the admin API (401 otherwise)."""

    class AdminToken(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict[str, Any], required_scopes: Any) -> Any:
            async def verify(request: Any) -> dict[str, Any]:
                scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
                presented = value.strip().encode()
                if scheme.lower() != "bearer" or not hmac.compare_digest(presented, token.encode()):  # constant time
                    raise RuleViolation("invalid_admin_token", "send 'Authorization: Bearer <admin token>'")
                return {"sub": "admin"}

            return verify

    return AdminToken
