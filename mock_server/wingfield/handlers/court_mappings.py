"""Court mappings: listCourtMappings, getCourtMapping, upsertCourtMapping, deleteCourtMapping."""

from typing import Any

from mock_server.wingfield.handlers.representations import mapping_json, page_json
from mock_server.wingfield.rules.courts import CourtMappings


class CourtMappingHandlers:
    def __init__(self, mappings: CourtMappings) -> None:
        self.mappings = mappings

    async def listCourtMappings(
        self, user: str, externalServiceId: str, offset: int = 0, limit: int = 50, externalCourtId: str | None = None
    ) -> dict[str, Any]:
        found = self.mappings.list(user, externalCourtId)
        return page_json([mapping_json(m) for m in found[offset : offset + limit]], len(found))

    async def getCourtMapping(self, user: str, externalServiceId: str, courtId: str) -> dict[str, Any]:
        return mapping_json(self.mappings.get(user, courtId))

    async def upsertCourtMapping(
        self, user: str, externalServiceId: str, courtId: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return mapping_json(self.mappings.upsert(user, courtId, body))

    async def deleteCourtMapping(self, user: str, externalServiceId: str, courtId: str) -> dict[str, Any]:
        self.mappings.delete(user, courtId)
        return {}
