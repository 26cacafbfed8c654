"""Organizations: claim a relation with a connect token, remove it, manage PRO memberships (G1-G5)."""

import dataclasses
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from mock_server.clock import Clock
from mock_server.violations import RuleViolation
from mock_server.wingfield.models import ConnectToken, Membership, OrganizationRelation, TokenState
from mock_server.wingfield.rules.access import visible_user
from mock_server.wingfield.store.base import Store

CONNECT_TOKEN = re.compile(r"ct_[A-Za-z0-9_-]{32}")  # G1 (decision)
TOKEN_LIFETIME = timedelta(days=7)


class Organizations:
    def __init__(self, store: Store, clock: Clock, new_id: Callable[[], str]) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id

    def claim(self, service_id: str, body: Mapping[str, Any]) -> OrganizationRelation:
        """G1, G2: malformed 422, unknown 404, expired 410, claimed or cancelled 409; nothing changes on a 4xx."""
        value, external_organization_id = body["connectToken"], body["externalOrganizationId"]
        if not isinstance(value, str) or CONNECT_TOKEN.fullmatch(value) is None:
            raise RuleViolation("malformed_connect_token", "a connect token is ct_ followed by 32 of A-Za-z0-9_-")
        token = self.store.connect_token(value)
        if token is None:
            raise RuleViolation("connect_token_not_found", "no such connect token")
        now = self.clock.now()
        if token.state != "OPEN":
            raise RuleViolation("connect_token_unusable", f"the connect token is {token.state.lower()}")
        if token.expires_at <= now:
            raise RuleViolation("expired_connect_token", "the connect token has expired")
        existing = self.store.organization_relation(service_id, token.organization_id)
        if existing is not None and existing.external_organization_id != external_organization_id:
            raise RuleViolation(
                "external_organization_id_mismatch",
                f"the relation exists with externalOrganizationId {existing.external_organization_id!r}",
            )
        taken = self.store.organization_relation_by_external_id(service_id, external_organization_id)
        if taken is not None and taken.organization_id != token.organization_id:
            raise RuleViolation(
                "external_organization_id_already_in_use",
                f"externalOrganizationId {external_organization_id!r} is used by another relation",
            )
        self.store.put_connect_token(dataclasses.replace(token, state="CLAIMED"))
        if existing is not None:
            return existing  # G2: confirmed
        relation = OrganizationRelation(
            self.new_id(), service_id, token.organization_id, external_organization_id, now, now
        )
        self.store.put_organization_relation(relation)
        return relation

    def delete_relation(self, service_id: str, organization_id: str) -> None:
        """G4: afterwards the organization's courts are closed to the service; its bookings stay its own."""
        if self.store.organization_relation(service_id, organization_id) is None:
            raise RuleViolation(
                "organization_relation_not_found", f"the service has no relation with organization {organization_id}"
            )
        self.store.delete_organization_relation(service_id, organization_id)

    def subscribe(self, service_id: str, organization_id: str, user_id: str, subscription: str) -> None:
        """G5: PRO adds or keeps a membership within the quota; NONE ends it; a repeat changes nothing."""
        organization = self.store.organization(organization_id)
        if organization is None:
            raise RuleViolation("organization_not_found", f"organization {organization_id} does not exist")
        if not self.store.has_organization_relation(service_id, organization_id):
            raise RuleViolation(
                "organization_access_denied", f"the service has no relation with organization {organization_id}"
            )
        if self.store.user(user_id) is None or not visible_user(self.store, service_id, user_id):
            raise RuleViolation("user_not_found", f"user {user_id} does not exist")  # invisible users do not leak
        member = self.store.membership(organization_id, user_id)
        if subscription == "NONE":
            if member is not None:
                self.store.delete_membership(organization_id, user_id)
            return
        if member is not None:
            return
        quota = organization.pro_quota
        if quota is not None and self.store.pro_member_count(organization_id) >= quota:
            raise RuleViolation("pro_user_quota_exceeded", f"the organization's PRO quota of {quota} is used up")
        self.store.put_membership(Membership(organization_id, user_id))

    def issue_token(
        self, organization_id: str, expires_at: datetime | None = None, state: TokenState = "OPEN"
    ) -> ConnectToken:
        """G1: what an organization does outside the partner API, offered to tests by the admin API."""
        if self.store.organization(organization_id) is None:
            raise RuleViolation("organization_not_found", f"organization {organization_id} does not exist")
        value = "ct_" + secrets.token_urlsafe(24)  # 32 characters of A-Za-z0-9_-
        token = ConnectToken(value, organization_id, expires_at or self.clock.now() + TOKEN_LIFETIME, state)
        self.store.put_connect_token(token)
        return token
