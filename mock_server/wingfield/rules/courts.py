"""Courts and court mappings: what a service can see of courts, and its own ids for them (B15, A3)."""

from collections.abc import Mapping
from typing import Any

from mock_server.clock import Clock
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import Court, CourtMapping, Facility
from mock_server.wingfield.rules.access import accessible_court
from mock_server.wingfield.store.base import Store


class Courts:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def get(self, service_id: str, court_id: str) -> tuple[Court, Facility, CourtMapping | None]:
        court = accessible_court(self.store, service_id, court_id)
        return court, self._facility(court), self.store.mapping(service_id, court.id)

    def of_facility(
        self, service_id: str, facility_id: str
    ) -> tuple[Facility, list[tuple[Court, CourtMapping | None]]]:
        facility = self.store.facility(facility_id)
        if facility is None:
            raise RuleViolation("facility_not_found", f"facility {facility_id} does not exist")
        if not self.store.has_organization_relation(service_id, facility.organization_id):
            raise RuleViolation(
                "organization_access_denied", "the service has no relation with the facility's organization"
            )
        courts = sorted(self.store.courts_of_facility(facility_id), key=lambda c: (c.name, c.id))
        return facility, [(court, self.store.mapping(service_id, court.id)) for court in courts]

    def _facility(self, court: Court) -> Facility:
        facility = self.store.facility(court.facility_id)
        assert facility is not None, "the world loader guarantees every court's facility"
        return facility


class CourtMappings:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def list(self, service_id: str, external_court_id: str | None) -> list[CourtMapping]:
        """Only mappings of courts the service can still see, ordered by externalCourtId, then courtId."""
        if external_court_id is not None:
            found = self.store.mapping_by_external_id(service_id, external_court_id)
            candidates = [found] if found else []
        else:
            candidates = list(self.store.mappings(service_id))
        visible = [m for m in candidates if self._visible(service_id, m.court_id)]
        return sorted(visible, key=lambda m: (m.external_court_id, m.court_id))

    def get(self, service_id: str, court_id: str) -> CourtMapping:
        accessible_court(self.store, service_id, court_id)
        mapping = self.store.mapping(service_id, court_id)
        if mapping is None:
            raise RuleViolation("court_mapping_not_found", f"the service has no mapping for court {court_id}")
        return mapping

    def upsert(self, service_id: str, court_id: str, body: Mapping[str, Any]) -> CourtMapping:
        accessible_court(self.store, service_id, court_id)
        external_court_id, name = body["externalCourtId"], body.get("externalCourtName")
        taken = self.store.mapping_by_external_id(service_id, external_court_id)
        if taken is not None and taken.court_id != court_id:
            raise RuleViolation(
                "external_court_id_already_in_use", f"externalCourtId {external_court_id!r} is mapped to another court"
            )
        stored = self.store.mapping(service_id, court_id)
        if stored is not None and (stored.external_court_id, stored.external_court_name) == (external_court_id, name):
            return stored  # an identical repeat changes nothing
        now = self.clock.now()
        created_at = stored.created_at if stored else now
        updated_at = self.clock.now_after(stored.updated_at) if stored else now
        mapping = CourtMapping(service_id, court_id, external_court_id, name, created_at, updated_at)
        self.store.put_mapping(mapping)
        return mapping

    def delete(self, service_id: str, court_id: str) -> None:
        accessible_court(self.store, service_id, court_id)
        self.store.delete_mapping(service_id, court_id)

    def _visible(self, service_id: str, court_id: str) -> bool:
        court = self.store.court(court_id)
        facility = court and self.store.facility(court.facility_id)
        return bool(facility) and self.store.has_organization_relation(service_id, facility.organization_id)
