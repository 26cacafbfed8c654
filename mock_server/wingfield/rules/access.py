"""Who may do what: token validity and scopes (A1-A3), relations to organizations and users (B15, B16, R6, G3, G4)."""

from datetime import datetime

from mock_server.violations import RuleViolation
from mock_server.wingfield.models import ApiToken, Court
from mock_server.wingfield.store.base import Store

LEVELS = {"none": 0, "read": 1, "write": 2}  # A2: write implies read


def authenticate(store: Store, value: str | None, now: datetime) -> ApiToken:
    """A1: no token is `missing_api_token`; unknown, revoked or expired is `invalid_api_token`."""
    if not value:
        raise RuleViolation("missing_api_token", "send 'Authorization: Bearer <your-api-token>'")
    token = store.token(value)
    if token is None or token.revoked:
        raise RuleViolation("invalid_api_token", "the API token is unknown or revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise RuleViolation("invalid_api_token", "the API token has expired")
    return token


def require_scope(token: ApiToken, required: str) -> None:
    """A2/A3: `required` is `area:level`, e.g. `court-booking:write`."""
    area, level = required.split(":")
    held = token.scopes.get(area, "none")
    if LEVELS[held] < LEVELS[level]:
        raise RuleViolation(
            "scope_permission_denied", f"this operation needs scope {required}; the token has {area}:{held}"
        )


def require_own_service(token: ApiToken, path_service_id: str) -> None:
    """B27: a token acts only for its own external service."""
    if path_service_id != token.service_id:
        raise RuleViolation("external_service_access_denied", "the path externalServiceId is not the token's service")


def accessible_court(store: Store, service_id: str, court_id: str) -> Court:
    """B15: the court exists, and its organization has a relation with the service."""
    court = store.court(court_id)
    if court is None:
        raise RuleViolation("court_not_found", f"court {court_id} does not exist")
    facility = store.facility(court.facility_id)
    if facility is None or not store.has_organization_relation(service_id, facility.organization_id):
        raise RuleViolation(
            "organization_access_denied", f"the service has no relation with the organization of court {court_id}"
        )
    return court


def visible_user(store: Store, service_id: str, user_id: str) -> bool:
    """B16, U3, R6: an ACCEPTED relation, or a user the service created and still relates to."""
    relation = store.user_relation(service_id, user_id)
    if relation is None:
        return False
    if relation.status == "ACCEPTED":
        return True
    user = store.user(user_id)
    return user is not None and user.created_by_service_id == service_id


def require_user_access(store: Store, service_id: str, user_id: str) -> None:
    """B16: a participant `userId` must be a user visible to the service."""
    if not visible_user(store, service_id, user_id):
        raise RuleViolation(
            "user_access_denied", f"user {user_id} is not connected to the service (needs an ACCEPTED relation)"
        )
