"""Organization relations and subscriptions: the operations of G1-G5."""

from typing import Any

from mock_server.wingfield.handlers.people import organization_relation_json
from mock_server.wingfield.rules.organizations import Organizations


class OrganizationHandlers:
    def __init__(self, organizations: Organizations) -> None:
        self.organizations = organizations

    async def claimOrganizationRelation(
        self, user: str, externalServiceId: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return organization_relation_json(self.organizations.claim(user, body))

    async def deleteOrganizationRelation(
        self, user: str, externalServiceId: str, organizationId: str
    ) -> dict[str, Any]:
        self.organizations.delete_relation(user, organizationId)
        return {}

    async def upsertOrganizationUserSubscription(
        self, user: str, organizationId: str, userId: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self.organizations.subscribe(user, organizationId, userId, body["subscription"])
        return {}
