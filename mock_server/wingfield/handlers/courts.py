"""Courts: getCourtById, listFacilityCourts."""

from typing import Any

from mock_server.wingfield.handlers.representations import court_json, page_json
from mock_server.wingfield.rules.courts import Courts


class CourtHandlers:
    def __init__(self, courts: Courts) -> None:
        self.courts = courts

    async def getCourtById(self, user: str, courtId: str) -> dict[str, Any]:
        return court_json(*self.courts.get(user, courtId))

    async def listFacilityCourts(self, user: str, facilityId: str, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        facility, courts = self.courts.of_facility(user, facilityId)
        page = courts[offset : offset + limit]
        return page_json([court_json(court, facility, mapping) for court, mapping in page], len(courts))
