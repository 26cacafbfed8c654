"""User relations: ask a user to connect, read, re-key and remove the relation (R1-R8)."""

import dataclasses
from collections.abc import Mapping
from typing import Any

from mock_server.violations import RuleViolation
from mock_server.wingfield.models import RelationStatus, UserRelation
from mock_server.wingfield.store.base import Store


class UserRelations:
    def __init__(self, store: Store) -> None:
        self.store = store

    def request(self, service_id: str, body: Mapping[str, Any]) -> UserRelation:
        """R1-R3: PENDING for a new one; a repeat with the same externalUserId is answered unchanged."""
        email, external_user_id = body["email"].lower(), body["externalUserId"]
        user = self.store.user_by_email(email)
        if user is None:
            raise RuleViolation("user_not_found", f"no Wingfield user has the e-mail {email}")
        existing = self.store.user_relation(service_id, user.id)
        if existing is not None and existing.external_user_id != external_user_id:
            raise RuleViolation(
                "external_user_id_mismatch",
                f"the user relates to the service under externalUserId {existing.external_user_id!r}",
            )
        self._require_free(service_id, external_user_id, user.id)
        if existing is not None and existing.status != "REJECTED":
            return existing
        relation = UserRelation(service_id, user.id, external_user_id, "PENDING")  # R2: REJECTED asks again
        self.store.put_user_relation(relation)
        return relation

    def get(self, service_id: str, user_id: str) -> UserRelation:
        """R4."""
        relation = self.store.user_relation(service_id, user_id)
        if relation is None:
            raise RuleViolation("user_relation_not_found", f"user {user_id} has no relation with the service")
        return relation

    def patch(self, service_id: str, user_id: str, body: Mapping[str, Any]) -> UserRelation:
        """R5, R3."""
        relation = self.get(service_id, user_id)
        external_user_id = body["externalUserId"]
        self._require_free(service_id, external_user_id, user_id)
        if relation.external_user_id == external_user_id:
            return relation
        changed = dataclasses.replace(relation, external_user_id=external_user_id)
        self.store.put_user_relation(changed)
        return changed

    def delete(self, service_id: str, user_id: str) -> None:
        """R6: not idempotent; afterwards the user is not visible to the service."""
        self.get(service_id, user_id)
        self.store.delete_user_relation(service_id, user_id)

    def of_service(
        self, service_id: str, external_user_id: str | None, status: RelationStatus | None
    ) -> list[UserRelation]:
        """R7: filters exact; the order is free (P4)."""
        return [
            relation
            for relation in self.store.user_relations(service_id)
            if (external_user_id is None or relation.external_user_id == external_user_id)
            and (status is None or relation.status == status)
        ]

    def answer(self, service_id: str, user_id: str, status: RelationStatus) -> UserRelation:
        """R8: the user's answer inside Wingfield, offered to tests by the admin API."""
        relation = self.get(service_id, user_id)
        if relation.status != status:
            relation = dataclasses.replace(relation, status=status)
            self.store.put_user_relation(relation)
        return relation

    def _require_free(self, service_id: str, external_user_id: str, user_id: str) -> None:
        taken = self.store.relation_by_external_user_id(service_id, external_user_id)
        if taken is not None and taken.user_id != user_id:
            raise RuleViolation(
                "external_user_id_already_in_use", f"externalUserId {external_user_id!r} is linked to another user"
            )
