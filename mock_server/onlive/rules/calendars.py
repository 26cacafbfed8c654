"""Calendars of an organization: read-only in this API."""

from collections.abc import Mapping
from typing import Any

from mock_server.onlive.models import Calendar
from mock_server.onlive.rules.services import documented_error
from mock_server.onlive.store.base import OnliveStore


class Calendars:
    def __init__(self, store: OnliveStore) -> None:
        self.store = store

    def get(self, organization_id: str, calendar_id: str) -> Calendar:
        calendar = self.store.calendar(calendar_id)
        if calendar is None or calendar.organization_id != organization_id:
            raise documented_error("calendar_not_found")
        return calendar

    def list(self, organization_id: str, filters: Mapping[str, Any]) -> list[Calendar]:
        search = (filters.get("search") or "").casefold()

        def matches(calendar: Calendar) -> bool:
            f = calendar.fields
            texts = [f.get("name") or "", *f.get("tags", [])]
            return (
                (filters.get("type") is None or f["type"] == filters["type"])
                and (filters.get("userGroupId") is None or f.get("userGroupId") == filters["userGroupId"])
                and (not search or any(search in text.casefold() for text in texts))
            )

        found = [c for c in self.store.calendars_of(organization_id) if matches(c)]
        return sorted(found, key=lambda c: (c.fields.get("name") or "", c.id))
