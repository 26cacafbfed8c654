"""The whole state as a world document, written piece by piece: `GET /__admin/state` streams it, and
`PUT /__admin/state` (or `--fixtures`) loads it back through the world loader, so an import passes every check
a world file does: schema, references, and the rules replayed.

It is a world file with what a world file may leave out: each record's timestamps and the tombstones of
deleted bookings. Bookings and services come in creation order, which keeps the list tie-breaks (B23).
"""

import json
from collections.abc import Iterable, Iterator
from typing import Any

from mock_server.onlive.rules.appointments import DEFAULTS as APPOINTMENT_DEFAULTS
from mock_server.onlive.rules.services import DEFAULTS as SERVICE_DEFAULTS
from mock_server.onlive.store.base import OnliveStore
from mock_server.timestamps import format_instant
from mock_server.wingfield.models import Booking, Tombstone
from mock_server.wingfield.store.base import Store

FORMAT = "bookingkit-world/1"


def export_world(wingfield: Store, onlive: OnliveStore) -> Iterator[str]:
    """JSON text in pieces, never the whole state in one string."""
    state = wingfield.dump()
    records = list(state["records"])
    bookings = sorted((r for r in records if isinstance(r, Booking)), key=lambda b: b.seq)
    tombstones = [r for r in records if isinstance(r, Tombstone)]
    yield f'{{"format": "{FORMAT}"'
    sections: list[tuple[str, Iterable[dict[str, Any]]]] = [
        ("organizations", (_organization(o, state["memberships"]) for o in state["organizations"])),
        (
            "facilities",
            ({"id": f.id, "organizationId": f.organization_id, "name": f.name} for f in state["facilities"]),
        ),
        (
            "courts",
            (
                {"id": c.id, "facilityId": c.facility_id, "name": c.name, "systemInstalled": c.system_installed}
                for c in state["courts"]
            ),
        ),
        ("externalServices", ({"id": s.id, "name": s.name} for s in state["services"])),
        ("apiTokens", (_token(t) for t in state["tokens"])),
        ("users", (_user(u) for u in state["users"])),
        (
            "userRelations",
            (
                {
                    "externalServiceId": r.service_id,
                    "userId": r.user_id,
                    "externalUserId": r.external_user_id,
                    "status": r.status,
                }
                for r in state["user_relations"]
            ),
        ),
        (
            "organizationRelations",
            (
                {
                    "id": r.id,
                    "externalServiceId": r.service_id,
                    "organizationId": r.organization_id,
                    "externalOrganizationId": r.external_organization_id,
                    "createdAt": format_instant(r.created_at),
                    "updatedAt": format_instant(r.updated_at),
                }
                for r in state["organization_relations"]
            ),
        ),
        (
            "connectTokens",
            (
                {
                    "token": t.value,
                    "organizationId": t.organization_id,
                    "expiresAt": format_instant(t.expires_at),
                    "state": t.state,
                }
                for t in state["connect_tokens"]
            ),
        ),
        ("sessions", (_session(s) for s in state["sessions"])),
        (
            "videos",
            (
                {
                    "id": v.id,
                    "sessionId": v.session_id,
                    "type": v.type,
                    "fps": v.fps,
                    "videoUrl": v.video_url,
                    "thumbnailUrl": v.thumbnail_url,
                    "resolution": v.resolution,
                }
                for v in state["videos"]
            ),
        ),
        ("courtMappings", (_mapping(m) for m in state["mappings"])),
        ("courtBookings", (_booking(b) for b in bookings)),
        (
            "courtBookingTombstones",
            (
                {
                    "externalServiceId": t.service_id,
                    "externalCourtBookingId": t.external_id,
                    "externalUpdatedAt": format_instant(t.external_updated_at),
                }
                for t in tombstones
            ),
        ),
    ]
    for name, entries in sections:
        yield from _array(name, entries)
    yield ', "onlive": {'
    live = onlive.dump()
    services = sorted(live["services"], key=lambda s: s.seq)
    for name, entries in (
        ("organizations", ({"id": o.id, "name": o.name} for o in live["organizations"])),
        (
            "accessKeys",
            (
                {"accessKeyId": k.id, "secretAccessKey": k.secret, "organizationId": k.organization_id}
                for k in live["access_keys"]
            ),
        ),
        ("calendars", (_document(c, c.fields) for c in live["calendars"])),
        ("services", (_service(s) for s in services)),
        ("appointments", (_appointment(a) for a in live["appointments"])),
    ):
        yield from _array(name, entries, lead="" if name == "organizations" else ", ")
    yield "}}\n"


def _array(name: str, entries: Iterable[dict[str, Any]], lead: str = ", ") -> Iterator[str]:
    yield f'{lead}"{name}": ['
    first = True
    for entry in entries:
        yield ("" if first else ", ") + json.dumps(entry)
        first = False
    yield "]"


def _token(token: Any) -> dict[str, Any]:
    entry = {
        "token": token.value,
        "externalServiceId": token.service_id,
        "scopes": dict(token.scopes),
        "description": token.description,
        "revoked": token.revoked,
    }
    if token.expires_at is not None:
        entry["expiresAt"] = format_instant(token.expires_at)
    return entry


def _user(user: Any) -> dict[str, Any]:
    entry = {"id": user.id, "email": user.email, "firstName": user.first_name, "lastName": user.last_name}
    if user.created_by_service_id:
        entry["createdByExternalServiceId"] = user.created_by_service_id
    if user.birthday is not None:
        entry["birthday"] = user.birthday.isoformat()
    for name, value in (("gender", user.gender), ("mainSportType", user.main_sport_type)):
        if value is not None:
            entry[name] = value
    if user.playing_hand is not None:
        entry["playingHand"] = user.playing_hand
    return entry


def _organization(organization: Any, memberships: list[Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": organization.id, "name": organization.name}
    if organization.pro_quota is not None:
        entry["proQuota"] = organization.pro_quota
    members = [
        {"userId": m.user_id, "subscription": m.subscription}
        for m in memberships
        if m.organization_id == organization.id
    ]
    if members:
        entry["members"] = members
    return entry


def _session(session: Any) -> dict[str, Any]:
    return {
        "id": session.id,
        "type": session.type,
        "sportType": session.sport_type,
        "durationSeconds": session.duration_seconds,
        "startedAt": format_instant(session.started_at),
        "workoutId": session.workout_id,
        "teams": [{"users": [{"id": p.user_id, "name": p.name} for p in team]} for team in session.teams],
    }


def _mapping(mapping: Any) -> dict[str, Any]:
    return {
        "externalServiceId": mapping.service_id,
        "courtId": mapping.court_id,
        "externalCourtId": mapping.external_court_id,
        "externalCourtName": mapping.external_court_name,
        "createdAt": format_instant(mapping.created_at),
        "updatedAt": format_instant(mapping.updated_at),
    }


def _booking(booking: Booking) -> dict[str, Any]:
    return {
        "externalServiceId": booking.service_id,
        "externalCourtBookingId": booking.external_id,
        "courtId": booking.court_id,
        "startDate": format_instant(booking.start),
        "endDate": format_instant(booking.end),
        "externalUpdatedAt": format_instant(booking.external_updated_at),
        "participants": [{"userId": p.user_id} if p.user_id else {"email": p.email} for p in booking.participants],
        "createdAt": format_instant(booking.created_at),
        "updatedAt": format_instant(booking.updated_at),
    }


def _document(record: Any, fields: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """An ONLIVE record as its create body: the fields it holds (unset and default ones left out: the create fills
    them in again), id, organization, times."""
    defaults = defaults or {}
    return {
        "id": record.id,
        "organizationId": record.organization_id,
        **{k: v for k, v in fields.items() if v is not None and not (k in defaults and defaults[k] == v)},
        "createdAt": format_instant(record.created_at),
        "updatedAt": format_instant(record.updated_at),
    }


def _service(service: Any) -> dict[str, Any]:
    entry = _document(service, service.fields, SERVICE_DEFAULTS)
    if service.deleted_at is not None:
        entry["deletedAt"] = format_instant(service.deleted_at)
    return entry


def _appointment(appointment: Any) -> dict[str, Any]:
    derived = {k: v for k, v in appointment.fields.items() if k != "userGroupId"}  # the create takes the service's
    entry = _document(appointment, derived, APPOINTMENT_DEFAULTS)
    entry.update(
        start=format_instant(appointment.start),
        end=format_instant(appointment.end),
        calendarIds=list(appointment.calendar_ids),
        state=appointment.state,
    )
    if appointment.service_id is not None:
        entry["serviceId"] = appointment.service_id
    return entry
