"""Users and user relations: the operations of U1-U5 and R1-R7."""

from typing import Any

from mock_server.wingfield.handlers.people import relation_json, user_json
from mock_server.wingfield.handlers.representations import page_json
from mock_server.wingfield.models import UserRelation
from mock_server.wingfield.rules.user_relations import UserRelations
from mock_server.wingfield.rules.users import Users


class UserHandlers:
    def __init__(self, users: Users, relations: UserRelations) -> None:
        self.users = users
        self.relations = relations

    def _relation(self, relation: UserRelation) -> dict[str, Any]:
        return relation_json(relation, self.users.store.user(relation.user_id))

    async def getUserById(self, user: str, userId: str) -> dict[str, Any]:
        return user_json(self.users.get(user, userId))

    async def createExternalServiceUser(self, user: str, externalServiceId: str, body: dict[str, Any]) -> dict:
        return user_json(self.users.create(user, body))

    async def patchUserById(self, user: str, userId: str, body: dict[str, Any]) -> dict[str, Any]:
        return user_json(self.users.patch(user, userId, body))

    async def listExternalServiceUsers(
        self, user: str, externalServiceId: str, offset: int = 0, limit: int = 50
    ) -> dict[str, Any]:
        found = self.users.visible(user)
        return page_json([user_json(u) for u in found[offset : offset + limit]], len(found))

    async def requestUserRelation(self, user: str, externalServiceId: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._relation(self.relations.request(user, body))

    async def listUserRelations(
        self,
        user: str,
        externalServiceId: str,
        offset: int = 0,
        limit: int = 50,
        externalUserId: str | None = None,
        status: Any = None,
    ) -> dict[str, Any]:
        found = self.relations.of_service(user, externalUserId, status)
        return page_json([self._relation(r) for r in found[offset : offset + limit]], len(found))

    async def getUserRelation(self, user: str, externalServiceId: str, userId: str) -> dict[str, Any]:
        return self._relation(self.relations.get(user, userId))

    async def patchUserRelationExternalUserId(
        self, user: str, externalServiceId: str, userId: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self._relation(self.relations.patch(user, userId, body))

    async def deleteUserRelation(self, user: str, externalServiceId: str, userId: str) -> dict[str, Any]:
        self.relations.delete(user, userId)
        return {}
