"""The things the Wingfield court area talks about."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Level = Literal["none", "read", "write"]
RelationStatus = Literal["PENDING", "ACCEPTED", "REJECTED"]


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Facility:
    id: str
    organization_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Court:
    id: str
    facility_id: str
    name: str
    system_installed: bool


@dataclass(frozen=True, slots=True)
class ExternalService:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    value: str
    service_id: str
    scopes: dict[str, Level]
    expires_at: datetime | None = None
    revoked: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    created_by_service_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserRelation:
    service_id: str
    user_id: str
    external_user_id: str
    status: RelationStatus


@dataclass(frozen=True, slots=True)
class OrganizationRelation:
    id: str
    service_id: str
    organization_id: str
    external_organization_id: str


@dataclass(frozen=True, slots=True)
class CourtMapping:
    service_id: str
    court_id: str
    external_court_id: str
    external_court_name: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Participant:
    """Exactly one of the two is set; e-mails are already lowercased (B11)."""

    user_id: str | None = None
    email: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return ("user", self.user_id) if self.user_id else ("email", self.email or "")


BookingKey = tuple[str, str]  # (external service id, external court booking id)


@dataclass(frozen=True, slots=True)
class Booking:
    service_id: str
    external_id: str
    court_id: str
    start: datetime
    end: datetime
    external_updated_at: datetime
    participants: tuple[Participant, ...]
    created_at: datetime
    updated_at: datetime
    seq: int = 0  # the internal id: list tie-break (B23), never exposed

    @property
    def key(self) -> BookingKey:
        return (self.service_id, self.external_id)

    def same_payload(self, other: "Booking") -> bool:
        """B7: court, instants, and participants as a set."""
        return (
            self.court_id == other.court_id
            and self.start == other.start
            and self.end == other.end
            and set(self.participants) == set(other.participants)
        )


@dataclass(frozen=True, slots=True)
class Tombstone:
    """What a delete leaves behind (B21): the version it was deleted at."""

    service_id: str
    external_id: str
    external_updated_at: datetime


@dataclass(frozen=True, slots=True)
class BookingQuery:
    """A validated list request (B24, B25); bounds are instants, `email` lowercased."""

    offset: int = 0
    limit: int = 50
    court_id: str | None = None
    external_id: str | None = None
    participants: tuple[Participant, ...] = ()  # each must take part
    overlaps_from: datetime | None = None
    overlaps_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None

    def matches(self, booking: Booking) -> bool:
        return (
            (self.court_id is None or booking.court_id == self.court_id)
            and (self.external_id is None or booking.external_id == self.external_id)
            and all(p in booking.participants for p in self.participants)
            and (self.overlaps_from is None or booking.end > self.overlaps_from)
            and (self.overlaps_to is None or booking.start < self.overlaps_to)
            and (self.updated_from is None or booking.updated_at >= self.updated_from)
            and (self.updated_to is None or booking.updated_at <= self.updated_to)
        )
