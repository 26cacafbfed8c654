"""Loading a world file (fixtures/*.yaml) into a store, refusing a bad one with the file and entry named."""

import dataclasses
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from bookingkit.documents import parse
from bookingkit.files import SPEC_PATH
from mock_server.clock import Clock
from mock_server.onlive.models import AccessKey, Calendar
from mock_server.onlive.models import Organization as OnliveOrganization
from mock_server.onlive.rules.appointments import Appointments
from mock_server.onlive.rules.services import BookingServices
from mock_server.onlive.store.memory import OnliveMemoryStore
from mock_server.resources import WORLD_SCHEMA
from mock_server.spec import load_spec
from mock_server.timestamps import WORLD_INSTANT, parse_instant
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import (
    ApiToken,
    ConnectToken,
    Court,
    ExternalService,
    Facility,
    Membership,
    Organization,
    OrganizationRelation,
    Session,
    SessionPlayer,
    User,
    UserRelation,
    Video,
)
from mock_server.wingfield.rules.bookings import CourtBookings
from mock_server.wingfield.rules.courts import CourtMappings
from mock_server.wingfield.store.memory import MemoryStore


class WorldError(Exception):
    """A world file that cannot be loaded; the message names the file and the entry."""


@dataclass(frozen=True)
class World:
    wingfield: MemoryStore
    onlive: OnliveMemoryStore


def load_world(path: Path, spec: dict[str, Any] | None = None) -> World:
    """Read (JSON or YAML), validate against world.schema.yaml, check references, and replay mutable data through
    the rules."""
    path = Path(path)
    try:
        data = parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorldError(f"{path}: cannot read the world file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise WorldError(f"{path}: not valid YAML or JSON ({exc})") from None
    return build_world(data or {}, path, spec, consume=True)


def build_world(data: Any, name: Path | str, spec: dict[str, Any] | None = None, *, consume: bool = False) -> World:
    """A world from a parsed document; `name` (a file, or where the document came from) prefixes every error.
    `consume` lets go of each booking entry once it is stored, so a large world never sits in memory twice.

    Records get the `createdAt`/`updatedAt` their entry gives (a state export gives them), else WORLD_INSTANT:
    never the time of loading, so loading a world twice gives the same answers."""
    _check_schema(name, data)
    onlive = _build_onlive(name, data.get("onlive") or {}, spec or load_spec(SPEC_PATH))
    return World(_build(name, data, consume), onlive)


@cache
def _world_validators() -> tuple[Any, jsonschema.Draft7Validator]:
    """A compiled validator to pass a world quickly, and jsonschema's to word what is wrong with a bad one."""
    schema = parse(WORLD_SCHEMA.read_text(encoding="utf-8"))
    # Draft 2020-12 for the compiled pass: its Draft 7 checks no `uuid` format, jsonschema's does; the schema
    # uses no keyword whose meaning changed between the two.
    fast = jsonschema_rs.Draft202012Validator(
        {k: v for k, v in schema.items() if k != "$schema"}, validate_formats=True
    )
    return fast, jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def _check_schema(path: Path | str, data: Any) -> None:
    fast, wording = _world_validators()
    if fast.is_valid(data):
        return
    errors = sorted(wording.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"{path}: {_entry(e.absolute_path)}: {e.message}" for e in errors[:10]]
        raise WorldError("\n".join(lines))


def _entry(location: Iterable[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _build(path: Path | str, data: dict[str, Any], consume: bool) -> MemoryStore:
    store = MemoryStore()
    clock = Clock()  # frozen at each record's own time while the rules write it

    def fail(section: str, index: int, message: str) -> WorldError:
        return WorldError(f"{path}: {section}[{index}]: {message}")

    def each(section: str) -> Iterable[tuple[int, dict[str, Any]]]:
        return enumerate(data.get(section) or [])

    def unique(section: str, key: Callable[[dict[str, Any]], Any]) -> None:
        seen: set[Any] = set()
        for index, entry in each(section):
            if key(entry) in seen:
                raise fail(section, index, f"duplicate {key(entry)!r}")
            seen.add(key(entry))

    def known(section: str, index: int, what: str, value: str, lookup: Callable[[str], Any]) -> None:
        if lookup(value) is None:
            raise fail(section, index, f"{what} {value} is not defined in the file")

    for section in ("organizations", "facilities", "courts", "externalServices", "users"):
        unique(section, lambda e: e["id"])
    unique("apiTokens", lambda e: e["token"])

    for _, e in each("organizations"):
        store.add_organization(Organization(e["id"], e["name"], e.get("proQuota")))
    for i, e in each("facilities"):
        known("facilities", i, "organizationId", e["organizationId"], store.organization)
        store.add_facility(Facility(e["id"], e["organizationId"], e["name"]))
    for i, e in each("courts"):
        known("courts", i, "facilityId", e["facilityId"], store.facility)
        store.add_court(Court(e["id"], e["facilityId"], e["name"], e.get("systemInstalled", False)))
    for _, e in each("externalServices"):
        store.add_service(ExternalService(e["id"], e["name"]))
    for i, e in each("apiTokens"):
        known("apiTokens", i, "externalServiceId", e["externalServiceId"], store.service)
        expires = parse_instant(e["expiresAt"]) if e.get("expiresAt") else None
        store.add_token(
            ApiToken(
                e["token"],
                e["externalServiceId"],
                dict(e["scopes"]),
                expires,
                e.get("revoked", False),
                e.get("description", ""),
            )
        )
    for i, e in each("users"):
        if e.get("createdByExternalServiceId"):
            known("users", i, "createdByExternalServiceId", e["createdByExternalServiceId"], store.service)
        if store.user_by_email(e["email"].lower()) is not None:
            raise fail("users", i, f"e-mail {e['email']} belongs to another user (U2)")
        store.add_user(
            User(
                e["id"],
                e["email"].lower(),
                e.get("firstName", ""),
                e.get("lastName", ""),
                e.get("createdByExternalServiceId"),
                date.fromisoformat(e["birthday"]) if e.get("birthday") else None,
                e.get("gender"),
                e.get("mainSportType"),
                e.get("playingHand"),
            )
        )
    for i, e in each("userRelations"):
        known("userRelations", i, "externalServiceId", e["externalServiceId"], store.service)
        known("userRelations", i, "userId", e["userId"], store.user)
        if store.user_relation(e["externalServiceId"], e["userId"]) is not None:
            raise fail("userRelations", i, "duplicate relation of this user and service")
        if store.relation_by_external_user_id(e["externalServiceId"], e["externalUserId"]) is not None:
            raise fail("userRelations", i, f"externalUserId {e['externalUserId']!r} is linked to another user (R3)")
        store.add_user_relation(UserRelation(e["externalServiceId"], e["userId"], e["externalUserId"], e["status"]))
    for i, e in each("organizationRelations"):
        known("organizationRelations", i, "externalServiceId", e["externalServiceId"], store.service)
        known("organizationRelations", i, "organizationId", e["organizationId"], store.organization)
        taken = store.organization_relation_by_external_id(e["externalServiceId"], e["externalOrganizationId"])
        if taken is not None or store.has_organization_relation(e["externalServiceId"], e["organizationId"]):
            raise fail("organizationRelations", i, "a second relation of this service and organization or id (G2)")
        created = _recorded(e, "createdAt") or WORLD_INSTANT
        store.add_organization_relation(
            OrganizationRelation(
                e["id"],
                e["externalServiceId"],
                e["organizationId"],
                e["externalOrganizationId"],
                created,
                _recorded(e, "updatedAt") or created,
            )
        )
    for i, e in each("connectTokens"):
        known("connectTokens", i, "organizationId", e["organizationId"], store.organization)
        if store.connect_token(e["token"]) is not None:
            raise fail("connectTokens", i, f"duplicate {e['token']!r}")
        store.put_connect_token(
            ConnectToken(e["token"], e["organizationId"], parse_instant(e["expiresAt"]), e.get("state", "OPEN"))
        )
    for i, e in each("organizations"):
        for member in e.get("members") or []:
            known("organizations", i, "members.userId", member["userId"], store.user)
            store.put_membership(Membership(e["id"], member["userId"]))
        if e.get("proQuota") is not None and store.pro_member_count(e["id"]) > e["proQuota"]:
            raise fail("organizations", i, "more PRO members than proQuota (G5)")
    unique("sessions", lambda e: e["id"])
    for i, e in each("sessions"):
        teams = tuple(
            tuple(SessionPlayer(player["id"], player["name"]) for player in team["users"]) for team in e["teams"]
        )
        for team in teams:
            for player in team:
                known("sessions", i, "player id", player.user_id, store.user)
        store.add_session(
            Session(
                e["id"],
                e["type"],
                e["sportType"],
                e["durationSeconds"],
                parse_instant(e["startedAt"]),
                teams,
                e.get("workoutId"),
            )
        )
    unique("videos", lambda e: e["id"])
    for i, e in each("videos"):
        known("videos", i, "sessionId", e["sessionId"], store.session)
        store.add_video(
            Video(e["id"], e["sessionId"], e["type"], e["fps"], e["videoUrl"], e["thumbnailUrl"], e["resolution"])
        )

    # Mutable data goes through the same rules as requests, so a world can never break an invariant; the rules
    # write each record at its creation time, and a later `updatedAt` is then restored as recorded.
    mappings, bookings = CourtMappings(store, clock), CourtBookings(store, clock)

    def mapping(e: dict[str, Any]) -> None:
        written = mappings.upsert(e["externalServiceId"], e["courtId"], e)
        if (updated := _recorded(e, "updatedAt")) and updated != written.updated_at:
            store.put_mapping(dataclasses.replace(written, updated_at=updated))

    def booking(e: dict[str, Any]) -> None:
        written = bookings.upsert(sys.intern(e["externalServiceId"]), e["externalCourtBookingId"], e)
        if (updated := _recorded(e, "updatedAt")) and updated != written.updated_at:
            store.put_booking(dataclasses.replace(written, updated_at=updated))

    def tombstone(e: dict[str, Any]) -> None:
        bookings.delete(sys.intern(e["externalServiceId"]), e["externalCourtBookingId"], e["externalUpdatedAt"])

    for section, apply in (
        ("courtMappings", mapping),
        ("courtBookings", booking),
        ("courtBookingTombstones", tombstone),
    ):
        entries = data.get(section) or []
        for i, e in enumerate(entries):
            known(section, i, "externalServiceId", e["externalServiceId"], store.service)
            clock.freeze(_recorded(e, "createdAt") or WORLD_INSTANT)
            try:
                apply(e)
            except RuleViolation as exc:
                detail = "; ".join(f"{'.'.join(map(str, x['path']))}: {x['message']}" for x in exc.issues or [])
                raise fail(section, i, f"{exc.kind}: {exc.message}" + (f" ({detail})" if detail else "")) from None
            if consume:
                entries[i] = None
    return store


def _build_onlive(path: Path | str, data: dict[str, Any], spec: dict[str, Any]) -> OnliveMemoryStore:
    store = OnliveMemoryStore()
    clock = Clock()
    for e in data.get("organizations") or []:
        store.add_organization(OnliveOrganization(e["id"], e["name"]))
    organizations = {e["id"] for e in data.get("organizations") or []}

    def fail(section: str, index: int, message: str) -> WorldError:
        return WorldError(f"{path}: onlive.{section}[{index}]: {message}")

    def entries(section: str) -> Iterable[tuple[int, dict[str, Any]]]:
        seen: set[str] = set()
        for index, entry in enumerate(data.get(section) or []):
            key = entry.get("id", entry.get("accessKeyId"))
            if key in seen:
                raise fail(section, index, f"duplicate {key!r}")
            seen.add(key)
            if entry["organizationId"] not in organizations:
                raise fail(section, index, f"organizationId {entry['organizationId']} is not defined in the file")
            yield index, entry

    validators: dict[str, jsonschema.Draft4Validator] = {}

    def body_of(section: str, index: int, entry: dict[str, Any], schema_name: str, drop: tuple[str, ...]) -> dict:
        body = {k: v for k, v in entry.items() if k not in ("id", "organizationId", *drop)}
        if schema_name not in validators:
            validators[schema_name] = jsonschema.Draft4Validator(
                {"$ref": f"#/components/schemas/{schema_name}", **spec}, format_checker=jsonschema.FormatChecker()
            )
        for error in validators[schema_name].iter_errors(body):
            raise fail(section, index, f"{_entry(error.absolute_path)}: {error.message}")
        return body

    for _, e in entries("accessKeys"):
        store.add_access_key(AccessKey(e["accessKeyId"], e["secretAccessKey"], e["organizationId"]))
    for _, e in entries("calendars"):
        fields = {
            "tags": [],
            "extraFields": {},
            "name": None,
            "email": None,
            "userGroupId": None,
            **{k: v for k, v in e.items() if k not in ("id", "organizationId", *TIMESTAMPS)},
        }
        created = _recorded(e, "createdAt") or WORLD_INSTANT
        store.put_calendar(
            Calendar(e["id"], e["organizationId"], fields, created, _recorded(e, "updatedAt") or created)
        )

    def create_service(entry: dict[str, Any], body: dict[str, Any]) -> None:
        written = BookingServices(store, clock, lambda: entry["id"]).create(entry["organizationId"], body)
        if (updated := _recorded(entry, "updatedAt")) and updated != written.updated_at:
            store.put_service(dataclasses.replace(written, updated_at=updated))

    def create_appointment(entry: dict[str, Any], body: dict[str, Any]) -> None:
        appointments = Appointments(store, clock, lambda: entry["id"])
        created = appointments.create(entry["organizationId"], body)
        if entry.get("state"):
            appointments.update(entry["organizationId"], created.id, {"state": entry["state"]})
        written = store.appointment(created.id)
        if written is not None and (updated := _recorded(entry, "updatedAt")) and updated != written.updated_at:
            store.put_appointment(dataclasses.replace(written, updated_at=updated))

    def delete_service(entry: dict[str, Any]) -> None:
        """O1-O3 at the recorded time: a service with an appointment active then cannot have been deleted."""
        service = store.service(entry["id"])
        assert service is not None
        clock.freeze(_recorded(entry, "deletedAt"))
        deleted = BookingServices(store, clock, lambda: entry["id"]).delete(entry["organizationId"], entry["id"])
        store.put_service(dataclasses.replace(deleted, updated_at=service.updated_at))

    deleted = []
    for section, schema_name, drop, create in (
        ("services", "ServiceCreate", ("deletedAt",), create_service),
        ("appointments", "AppointmentCreate", ("state", "deletedAt"), create_appointment),
    ):
        for i, e in entries(section):
            clock.freeze(_recorded(e, "createdAt") or WORLD_INSTANT)
            try:
                create(e, body_of(section, i, e, schema_name, (*drop, *TIMESTAMPS)))
            except RuleViolation as exc:
                raise fail(section, i, _violation(exc)) from None
            if section == "services" and e.get("deletedAt"):
                deleted.append((i, e))
    for i, e in deleted:  # after the appointments, which may refer to the service while it lived
        try:
            delete_service(e)
        except RuleViolation as exc:
            raise fail("services", i, _violation(exc)) from None
    return store


TIMESTAMPS = ("createdAt", "updatedAt")


def _recorded(entry: dict[str, Any], field: str) -> datetime | None:
    """A timestamp the entry gives (already checked as date-time by the schema)."""
    value = entry.get(field)
    return parse_instant(value) if value else None


def _violation(exc: RuleViolation) -> str:
    detail = "; ".join(f"{'.'.join(map(str, x['path']))}: {x['message']}" for x in exc.issues or [])
    return f"{exc.message}" + (f" ({detail})" if detail else "")
