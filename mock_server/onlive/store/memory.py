"""In-memory ONLIVE.SITE state, indexed by organization (every request is scoped to one, O4) and by service
(the delete of a service looks only at that service's appointments, O3)."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mock_server.onlive.models import AccessKey, Appointment, Calendar, Organization, Service


class OnliveMemoryStore:
    def __init__(self) -> None:
        self._organizations: dict[str, Organization] = {}
        self._keys: dict[str, AccessKey] = {}
        self._calendars: dict[str, Calendar] = {}
        self._services: dict[str, Service] = {}
        self._appointments: dict[str, Appointment] = {}
        self._by_organization: dict[str, dict[str, dict[str, None]]] = defaultdict(lambda: defaultdict(dict))
        self._by_service: dict[str, dict[str, None]] = defaultdict(dict)  # insertion-ordered sets
        self._seq = 0

    def dump(self) -> dict[str, Any]:
        return {
            "organizations": list(self._organizations.values()),
            "access_keys": list(self._keys.values()),
            "calendars": list(self._calendars.values()),
            "services": list(self._services.values()),
            "appointments": list(self._appointments.values()),
            "seq": self._seq,
        }

    def adopt(self, other: "OnliveMemoryStore") -> None:
        """Take over another store's contents (reset, new world, import); objects holding this store see them."""
        self.__dict__.update(vars(other))

    @classmethod
    def load(cls, dump: dict[str, Any]) -> "OnliveMemoryStore":
        store = cls()
        for key, put in (
            ("organizations", store.add_organization),
            ("access_keys", store.add_access_key),
            ("calendars", store.put_calendar),
            ("services", store.put_service),
            ("appointments", store.put_appointment),
        ):
            for record in dump[key]:
                put(record)
        store._seq = dump["seq"]
        return store

    def add_organization(self, organization: Organization) -> None:
        self._organizations[organization.id] = organization

    def organizations(self) -> Iterable[Organization]:
        return self._organizations.values()

    def add_access_key(self, key: AccessKey) -> None:
        self._keys[key.id] = key

    def access_key(self, key_id: str) -> AccessKey | None:
        return self._keys.get(key_id)

    def access_keys(self) -> Iterable[AccessKey]:
        return self._keys.values()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def put_calendar(self, calendar: Calendar) -> None:
        self._calendars[calendar.id] = calendar
        self._by_organization[calendar.organization_id]["calendars"][calendar.id] = None

    def calendar(self, calendar_id: str) -> Calendar | None:
        return self._calendars.get(calendar_id)

    def calendars_of(self, organization_id: str) -> Iterable[Calendar]:
        return [self._calendars[i] for i in self._by_organization[organization_id]["calendars"]]

    def put_service(self, service: Service) -> None:
        self._services[service.id] = service
        self._by_organization[service.organization_id]["services"][service.id] = None

    def service(self, service_id: str) -> Service | None:
        return self._services.get(service_id)

    def services_of(self, organization_id: str) -> Iterable[Service]:
        return [self._services[i] for i in self._by_organization[organization_id]["services"]]

    def put_appointment(self, appointment: Appointment) -> None:
        old = self._appointments.get(appointment.id)
        if old is not None and old.service_id is not None:
            self._by_service[old.service_id].pop(old.id, None)
        self._appointments[appointment.id] = appointment
        self._by_organization[appointment.organization_id]["appointments"][appointment.id] = None
        if appointment.service_id is not None:
            self._by_service[appointment.service_id][appointment.id] = None

    def appointment(self, appointment_id: str) -> Appointment | None:
        return self._appointments.get(appointment_id)

    def appointments_of(self, organization_id: str) -> Iterable[Appointment]:
        return [self._appointments[i] for i in self._by_organization[organization_id]["appointments"]]

    def appointments_of_service(self, service_id: str) -> Iterable[Appointment]:
        return [self._appointments[i] for i in self._by_service.get(service_id, {})]
