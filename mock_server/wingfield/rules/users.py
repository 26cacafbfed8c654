"""Users: create, read, patch and list the users a service may see (U1-U5)."""

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from mock_server.violations import RuleViolation
from mock_server.wingfield.models import User, UserRelation
from mock_server.wingfield.rules.access import visible_user
from mock_server.wingfield.store.base import Store

PROFILE_FIELDS = {  # U4: what a patch may change, and the User attribute each sets
    "firstName": "first_name",
    "lastName": "last_name",
    "birthday": "birthday",
    "gender": "gender",
    "mainSportType": "main_sport_type",
    "playingHand": "playing_hand",
}


def read_birthday(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            "invalid_schema",
            "request validation failed",
            [{"path": ["body", "birthday"], "message": f"{value!r} is not a date (YYYY-MM-DD)"}],
        ) from None


class Users:
    def __init__(self, store: Store, new_id: Callable[[], str]) -> None:
        self.store = store
        self.new_id = new_id

    def create(self, service_id: str, body: Mapping[str, Any]) -> User:
        """U1, U2: a new user managed by the service, with an ACCEPTED relation carrying `externalUserId`."""
        email, external_user_id = body["email"].lower(), body["externalUserId"]
        birthday = read_birthday(body.get("birthday"))
        if self.store.user_by_email(email) is not None:
            raise RuleViolation("email_already_in_use", f"{email} belongs to another user")
        if self.store.relation_by_external_user_id(service_id, external_user_id) is not None:
            raise RuleViolation(
                "external_user_id_already_in_use", f"externalUserId {external_user_id!r} is linked to another user"
            )
        user = User(
            self.new_id(),
            email,
            body["firstName"],
            body["lastName"],
            service_id,
            birthday,
            body.get("gender"),
            body.get("mainSportType"),
            body.get("playingHand"),
        )
        self.store.put_user(user)
        self.store.put_user_relation(UserRelation(service_id, user.id, external_user_id, "ACCEPTED"))
        return user

    def get(self, service_id: str, user_id: str) -> User:
        """U3: 404 for an unknown user, 403 for one the service may not see."""
        user = self.store.user(user_id)
        if user is None:
            raise RuleViolation("user_not_found", f"user {user_id} does not exist")
        if not visible_user(self.store, service_id, user_id):
            raise RuleViolation("user_access_denied", f"the service has no access to user {user_id}")
        return user

    def patch(self, service_id: str, user_id: str, body: Mapping[str, Any]) -> User:
        """U4: only a user the service manages; no 404 is documented, so unknown users are 403 too."""
        birthday = read_birthday(body["birthday"]) if body.get("birthday") is not None else None
        user = self.store.user(user_id)
        if user is None or not visible_user(self.store, service_id, user_id):
            raise RuleViolation("user_access_denied", f"the service has no access to user {user_id}")
        if user.created_by_service_id != service_id:
            raise RuleViolation("user_not_managed", f"user {user_id} is not managed by the service")
        changes = {PROFILE_FIELDS[name]: value for name, value in body.items() if name in PROFILE_FIELDS}
        if "birthday" in changes:
            changes["birthday"] = birthday
        if not changes:
            return user
        changed = User(**{**_fields(user), **changes})
        if changed != user:
            self.store.put_user(changed)
        return changed

    def visible(self, service_id: str) -> list[User]:
        """U5: the users the service may see (order free, P4): its relations' order."""
        found = []
        for relation in self.store.user_relations(service_id):
            if visible_user(self.store, service_id, relation.user_id):
                user = self.store.user(relation.user_id)
                if user is not None:
                    found.append(user)
        return found


def _fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in User.__slots__}
