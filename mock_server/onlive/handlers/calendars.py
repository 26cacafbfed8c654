"""ONLIVE.SITE calendars: listCalendars, getCalendar."""

from typing import Any

from mock_server.onlive.handlers.representations import calendar_json, page_json
from mock_server.onlive.rules.calendars import Calendars


class CalendarHandlers:
    def __init__(self, calendars: Calendars) -> None:
        self.calendars = calendars

    async def listCalendars(self, user: str, page: int = 1, limit: int = 20, **filters: Any) -> dict[str, Any]:
        return page_json(self.calendars.list(user, filters), calendar_json, page, limit)

    async def getCalendar(self, user: str, id: str) -> dict[str, Any]:  # noqa: A002 - the spec's name
        return calendar_json(self.calendars.get(user, id))
