"""The things the Wingfield Partner API talks about."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from mock_server.timestamps import WORLD_INSTANT, to_micros

Level = Literal["none", "read", "write"]
RelationStatus = Literal["PENDING", "ACCEPTED", "REJECTED"]
TokenState = Literal["OPEN", "CLAIMED", "CANCELLED"]


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    pro_quota: int | None = None  # G5: how many PRO members it may have; None is no limit


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
    email: str  # lowercased (U2)
    first_name: str
    last_name: str
    created_by_service_id: str | None = None  # the service that manages it (U1, U4)
    birthday: date | None = None
    gender: str | None = None
    main_sport_type: str | None = None
    playing_hand: str | None = None


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
    created_at: datetime = WORLD_INSTANT
    updated_at: datetime = WORLD_INSTANT


@dataclass(frozen=True, slots=True)
class ConnectToken:
    """G1: issued by an organization outside the partner API; claimed once."""

    value: str
    organization_id: str
    expires_at: datetime
    state: TokenState = "OPEN"


@dataclass(frozen=True, slots=True)
class Membership:
    """G5: a user's subscription with an organization; only PRO memberships are kept (NONE ends one)."""

    organization_id: str
    user_id: str
    subscription: Literal["PRO"] = "PRO"


@dataclass(frozen=True, slots=True)
class SessionPlayer:
    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Session:
    """S1: a record of play on a Wingfield court, read-only through the API."""

    id: str
    type: str
    sport_type: str
    duration_seconds: int
    started_at: datetime
    teams: tuple[tuple[SessionPlayer, ...], ...]
    workout_id: str | None = None

    @property
    def player_ids(self) -> frozenset[str]:
        return frozenset(player.user_id for team in self.teams for player in team)


@dataclass(frozen=True, slots=True)
class Video:
    id: str
    session_id: str
    type: str  # SESSION_VIDEO, AUTOMATIC_HIGHLIGHTS, CUSTOM_HIGHLIGHTS
    fps: int
    video_url: str
    thumbnail_url: str
    resolution: str


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
    # The instants as integer microseconds, computed once: indexes and filters compare these, not datetimes.
    start_us: int = field(init=False, repr=False, compare=False)
    end_us: int = field(init=False, repr=False, compare=False)
    updated_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_us", to_micros(self.start))
        object.__setattr__(self, "end_us", to_micros(self.end))
        object.__setattr__(self, "updated_us", to_micros(self.updated_at))

    @property
    def key(self) -> BookingKey:
        return (self.service_id, self.external_id)

    def same_payload(self, other: "Booking") -> bool:
        """B7: court, instants, and participants as a set."""
        return self.has_payload(other.court_id, other.start, other.end, other.participants)

    def has_payload(
        self, court_id: str, start: datetime, end: datetime, participants: tuple["Participant", ...]
    ) -> bool:
        """B7, against the fields of a request."""
        return (
            self.court_id == court_id
            and self.start == start
            and self.end == end
            and set(self.participants) == set(participants)
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
            and (self.overlaps_from is None or booking.end_us > to_micros(self.overlaps_from))
            and (self.overlaps_to is None or booking.start_us < to_micros(self.overlaps_to))
            and (self.updated_from is None or booking.updated_us >= to_micros(self.updated_from))
            and (self.updated_to is None or booking.updated_us <= to_micros(self.updated_to))
        )

    def matcher(self, *, court: bool = True, participants: int = 0) -> Callable[[Booking], bool] | None:
        """A test for what an index does not already guarantee: `court=False` when the index is the court's,
        `participants=1` when it is the first participant's. None when nothing is left to test."""
        court_id = self.court_id if court else None
        wanted = self.participants[participants:]
        low = None if self.overlaps_from is None else to_micros(self.overlaps_from)
        high = None if self.overlaps_to is None else to_micros(self.overlaps_to)
        if court_id is None and not wanted and low is None and high is None and self.external_id is None:
            return None

        def test(booking: Booking) -> bool:
            return (
                (court_id is None or booking.court_id == court_id)
                and (self.external_id is None or booking.external_id == self.external_id)
                and all(p in booking.participants for p in wanted)
                and (low is None or booking.end_us > low)
                and (high is None or booking.start_us < high)
            )

        return test
