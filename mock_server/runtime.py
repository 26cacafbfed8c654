"""The state behind one app and its controls: the backend, the clock, faults, the world to reset to.

With a shared backend (SQL) other processes may change the control state: `sync` re-reads it when the
backend's control version moved, so the admin API answers the same whichever worker it reaches.
"""

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mock_server.clock import Clock
from mock_server.control.faults import Faults
from mock_server.control.snapshot import export_world
from mock_server.onlive.handlers.appointments import AppointmentHandlers
from mock_server.onlive.handlers.booking_services import BookingServiceHandlers
from mock_server.onlive.handlers.calendars import CalendarHandlers
from mock_server.onlive.rules.appointments import Appointments
from mock_server.onlive.rules.calendars import Calendars
from mock_server.onlive.rules.services import BookingServices
from mock_server.spec import SpecIndex
from mock_server.store.backend import Backend
from mock_server.wingfield.handlers.court_bookings import CourtBookingHandlers
from mock_server.wingfield.handlers.court_mappings import CourtMappingHandlers
from mock_server.wingfield.handlers.courts import CourtHandlers
from mock_server.wingfield.handlers.organizations import OrganizationHandlers
from mock_server.wingfield.handlers.sessions import SessionHandlers
from mock_server.wingfield.handlers.users import UserHandlers
from mock_server.wingfield.rules.bookings import CourtBookings
from mock_server.wingfield.rules.courts import CourtMappings, Courts
from mock_server.wingfield.rules.organizations import Organizations
from mock_server.wingfield.rules.sessions import Sessions
from mock_server.wingfield.rules.user_relations import UserRelations
from mock_server.wingfield.rules.users import Users
from mock_server.world import World, build_world, load_world

WorldSource = Path | dict[str, Any]


class Runtime:
    def __init__(
        self,
        backend: Backend,
        spec: dict[str, Any],
        index: SpecIndex,
        world_source: WorldSource,
        *,
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        self.backend, self.spec, self.index = backend, spec, index
        self.store, self.onlive_store = backend.wingfield, backend.onlive
        self.clock = clock or Clock()
        self.faults = Faults(index, seed)
        self.initial_source = world_source
        self.admin_token = ""
        self.access_log: Any = None
        self._seen = -1
        ids = random.Random(seed)

        def new_id() -> str:  # seeded: a repeated run creates the same ids
            return str(uuid.UUID(int=ids.getrandbits(128), version=4))

        store, onlive, clock = self.store, self.onlive_store, self.clock
        self.user_relations = UserRelations(store)
        self.organizations = Organizations(store, clock, new_id)
        self.handlers = [
            CourtHandlers(Courts(store, clock)),
            CourtMappingHandlers(CourtMappings(store, clock)),
            CourtBookingHandlers(CourtBookings(store, clock)),
            UserHandlers(Users(store, new_id), self.user_relations),
            OrganizationHandlers(self.organizations),
            SessionHandlers(Sessions(store)),
            BookingServiceHandlers(BookingServices(onlive, clock, new_id)),
            AppointmentHandlers(Appointments(onlive, clock, new_id)),
            CalendarHandlers(Calendars(onlive)),
        ]

    def resolve(self, operation_id: str) -> Any:
        for group in self.handlers:
            if hasattr(group, operation_id):
                return getattr(group, operation_id)
        raise LookupError(f"openapi.yaml names operationId {operation_id!r}, which no handler implements")

    # -- the world ---------------------------------------------------------------------------------

    def seed(self, *, reset: bool = False) -> None:
        """Load the world into an empty backend (a SQL database keeps its state across restarts)."""
        if reset or not self.backend.seeded():
            self.reset()

    def reset(self) -> None:
        """Back to the world loaded last: the `--fixtures` file, or what `PUT /__admin/fixtures` gave since."""
        self._adopt(self._build(self.backend.control("world") or self.initial_source))

    def load_world_document(self, document: dict[str, Any]) -> None:
        world = self._build(document)  # raises WorldError, and the state stays
        self._adopt(world)
        self.backend.set_control({"world": document})

    def adopt_world(self, world: World, document: dict[str, Any]) -> None:
        """`--watch`: a world already built from `document` (off the event loop) becomes the state and the world to
        reset to, as `load_world_document` does; only this quick swap runs where requests run."""
        self._adopt(world)
        self.backend.set_control({"world": document})

    def export_state(self) -> Iterator[str]:
        return export_world(self.store, self.onlive_store)

    def export_document(self) -> dict[str, Any]:
        """The export as one parsed document (tests and small states)."""
        return json.loads("".join(self.export_state()))

    def import_state(self, document: dict[str, Any]) -> None:
        """An export (or any world document) replaces the state; the world to reset to stays."""
        self._adopt(build_world(document, "PUT /__admin/state", self.spec, consume=True))

    def _build(self, source: WorldSource) -> World:
        if isinstance(source, dict):
            return build_world(source, "PUT /__admin/fixtures", self.spec)
        return load_world(Path(source), self.spec)

    def _adopt(self, world: World) -> None:
        self.backend.adopt(world.wingfield, world.onlive)

    # -- control state shared with other workers -----------------------------------------------------

    def sync(self) -> None:
        """Take over the clock and the faults another worker set (shared backends only)."""
        version = self.backend.control_version()
        if version == self._seen:
            return
        self._seen = version
        clock = self.backend.control("clock")
        if clock is not None:
            frozen = clock.get("frozenAt")
            self.clock.restore(
                datetime.fromisoformat(frozen) if frozen else None, timedelta(microseconds=clock["offsetMicros"])
            )
        self.faults.set(self.backend.control("faults") or {})

    def publish_clock(self) -> None:
        frozen_at, offset = self.clock.state()
        self._publish(
            {
                "clock": {
                    "frozenAt": frozen_at.astimezone(UTC).isoformat() if frozen_at else None,
                    "offsetMicros": offset // timedelta(microseconds=1),
                }
            }
        )

    def publish_faults(self) -> None:
        self._publish({"faults": self.faults.raw})

    def _publish(self, values: dict[str, Any]) -> None:
        self.backend.set_control(values)
        self._seen = self.backend.control_version()
