"""ONLIVE.SITE resources. They are documents: the API's own fields live in `fields`, under the API's names."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    id: str
    secret: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class Calendar:
    id: str
    organization_id: str
    fields: dict[str, Any]  # externalId, name, timezone, type, userGroupId, email, tags, extraFields
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    organization_id: str
    fields: dict[str, Any]  # name, duration, ..., calendars, dateRanges, image, userGroupId, typeId, condition
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    seq: int = 0  # creation order, for the list


@dataclass(frozen=True, slots=True)
class Appointment:
    id: str
    organization_id: str
    service_id: str | None
    calendar_ids: tuple[str, ...]
    start: datetime
    end: datetime
    state: str
    created_at: datetime
    updated_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)  # title, description, lang, reminders, guests, ...
    deleted_at: datetime | None = None

    def blocks_service_delete(self, now: datetime) -> bool:
        """O3: it refers to its service, is not deleted, is not cancelled, and ends in the future."""
        return self.deleted_at is None and self.state != "cancelled" and self.end > now
