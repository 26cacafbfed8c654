"""Scenario tests of organizations: G1-G5 (connect tokens, claims, access from the claim on, deleting the
relation, PRO subscriptions), and the organization area's scopes (A3).

Claims concern `wingfield.organizations.claimable`, an organization the service has no relation with, whose
courts include `courts.not_granted`. Connect tokens are issued through `wingfield.control` when the profile has
one, fresh for every claim, so the suite can run again and again; without it they come from
`wingfield.connect_tokens`, and each token of `connect_tokens.claimable` is used once per run (a claim consumes
it): the tests that would need another are skipped. One claim is shared by the tests that need a relation, in
file order, until a G4 test deletes it; the module deletes it at the end in any case. Subscriptions concern
`organizations.related` and users the tests create; each PRO subscription ends (NONE) after its test.
"""

import secrets
from collections.abc import Iterator

import pytest

from .conftest import optional
from .profile import WingfieldTarget
from .wingfield import Control, Scenario, Wingfield

documented, decision = pytest.mark.documented, pytest.mark.decision
UNKNOWN = "00000000-0000-4000-8000-000000000000"
EXPIRED_AT = "2000-01-01T00:00:00Z"


def kind(response) -> str:
    return response.json()["error"]["type"]


def unknown_token() -> str:
    return "ct_" + secrets.token_urlsafe(24)  # well formed: 32 characters of A-Za-z0-9_-


class ConnectTokens:
    """Tokens of `organizations.claimable`: issued through the control interface, or else from the profile."""

    def __init__(self, target: WingfieldTarget, organization: str) -> None:
        self.target, self.organization = target, organization
        self.control = Control(target.control) if target.control else None
        self.used: set[str] = set()

    def close(self) -> None:
        if self.control:
            self.control.close()

    def fresh(self, *, consume: bool = True) -> str:
        """An OPEN token. From the profile, each at most once per run, unless `consume` is false (a claim that
        must be refused, and so leaves the token as it was)."""
        if self.control:
            return self.control.issue_connect_token(self.organization)
        if not self.target.claimable_tokens:
            pytest.skip(f"the target profile has no wingfield.connect_tokens.claimable ({self.target.no_control})")
        for token in self.target.claimable_tokens:
            if token not in self.used:
                if consume:
                    self.used.add(token)
                return token
        pytest.skip(
            "every token of wingfield.connect_tokens.claimable was used by an earlier claim of this run (each is "
            "single-use: give more, or a wingfield.control section to issue fresh ones)"
        )

    def unusable(self, which: str) -> str:
        """An expired, claimed or cancelled token."""
        if self.control:
            if which == "expired":
                return self.control.issue_connect_token(self.organization, expires_at=EXPIRED_AT)
            return self.control.issue_connect_token(self.organization, state=which.upper())
        token = self.target.connect_tokens.get(which)
        if not token:
            pytest.skip(f"the target profile has no wingfield.connect_tokens.{which} (nor a wingfield.control)")
        return token


class SharedClaim:
    """The service's relation with `organizations.claimable`, made by one claim and shared by the tests that need
    a relation, until one of them deletes it (`release`)."""

    def __init__(self, client: Wingfield, tokens: ConnectTokens) -> None:
        self.client, self.tokens = client, tokens
        self.external_id = client.scenario.id("org")
        self.relation: dict | None = None  # the answer of the claim that made the relation
        self.token: str | None = None

    def hold(self) -> dict:
        """The relation; claimed now unless it is held already."""
        if self.relation is None:
            token = self.tokens.fresh()
            response = self.client.claim(token, self.external_id)
            hint = "" if self.tokens.control else " (connect_tokens.claimable are single-use: is this one used up?)"
            assert response.status_code == 200, f"claiming with {token}: {response.text}{hint}"
            self.relation, self.token = response.json(), token
        return self.relation

    def release(self):
        """Deletes the relation (G4); the answer, for the test to check."""
        self.relation = None
        return self.client.delete_organization_relation(self.tokens.organization)


@pytest.fixture(scope="module")
def organization(wingfield_target: WingfieldTarget) -> str:
    return optional(wingfield_target, "organizations", "claimable")


@pytest.fixture(scope="module")
def tokens(wingfield_target: WingfieldTarget, organization: str) -> Iterator[ConnectTokens]:
    tokens = ConnectTokens(wingfield_target, organization)
    yield tokens
    tokens.close()


@pytest.fixture(scope="module")
def claim(wingfield_target: WingfieldTarget, tokens: ConnectTokens) -> Iterator[SharedClaim]:
    client = Wingfield(wingfield_target, Scenario(wingfield_target.booking_window), wingfield_target.tokens["write"])
    shared = SharedClaim(client, tokens)
    yield shared
    if shared.relation is not None:
        shared.release()
    client.close()


@pytest.fixture
def court(api) -> str:
    """A court of `organizations.claimable` (profile: courts.not_granted)."""
    return optional(api.target, "courts", "not_granted")


@pytest.fixture
def related(api) -> str:
    """An organization related to the service, whose PRO subscriptions the tests may change."""
    return optional(api.target, "organizations", "related")


def refused(api, response, organization: str, status: int, error: str, hint: str = "") -> None:
    """`response` is `status` `error`; a relation it made anyway is deleted again before the assertion."""
    if response.status_code == 200 and response.json().get("organizationId") == organization:
        api.delete_organization_relation(organization)
    got = (response.status_code, kind(response) if response.status_code >= 400 else None)
    assert got == (status, error), response.text + hint


def no_relation(api, organization: str) -> None:
    """Nothing was claimed: deleting the relation is 404 (G4); a relation that exists is deleted by the probe."""
    response = api.delete_organization_relation(organization)
    assert response.status_code == 404 and kind(response) == "organization_relation_not_found", response.text


# -- G1: connect tokens --------------------------------------------------------------------------------


@decision
@pytest.mark.parametrize(
    "token",
    ["not-a-token", "ct_", "ct_" + "a" * 31, "ct_" + "a" * 33, "ct_" + "a" * 31 + "!", "CT_" + "a" * 32],
    ids=["no prefix", "prefix only", "31 characters", "33 characters", "bad character", "upper-case prefix"],
)
def test_G1_a_malformed_token_is_malformed_connect_token(api, scenario, organization, token):
    refused(api, api.claim(token, scenario.id("org")), organization, 422, "malformed_connect_token")


@documented
def test_G1_an_unknown_token_is_connect_token_not_found(api, scenario, organization):
    refused(api, api.claim(unknown_token(), scenario.id("org")), organization, 404, "connect_token_not_found")


@documented
@pytest.mark.parametrize(
    "which, status, error",
    [
        ("expired", 410, "expired_connect_token"),
        ("claimed", 409, "connect_token_unusable"),
        ("cancelled", 409, "connect_token_unusable"),
    ],
)
def test_G1_an_expired_claimed_or_cancelled_token_is_refused(api, scenario, tokens, organization, which, status, error):
    refused(api, api.claim(tokens.unusable(which), scenario.id("org")), organization, status, error)
    no_relation(api, organization)


@documented
@pytest.mark.parametrize("missing", ["connectToken", "externalOrganizationId"])
def test_G1_connect_token_and_external_organization_id_are_required(api, scenario, organization, missing):
    sent = {"connectToken": unknown_token(), "externalOrganizationId": scenario.id("org")}
    del sent[missing]
    response = api.call("POST", f"/external-services/{api.service}/organization-relations/claim", json=sent)
    refused(api, response, organization, 400, "invalid_schema")


# -- tests that must not consume a token (without a control section, the profile's may be the only one) ------


@documented
def test_G2_an_external_id_of_another_relation_is_already_in_use_and_changes_nothing(api, tokens, organization):
    taken = optional(api.target, "organizations", "related_external_id")
    response = api.claim(tokens.fresh(consume=False), taken)
    hint = "" if tokens.control else " (connect_tokens.claimable are single-use: is this one used up?)"
    refused(api, response, organization, 409, "external_organization_id_already_in_use", hint)
    no_relation(api, organization)


@documented
def test_G4_delete_without_relation_is_organization_relation_not_found(api, claim, organization):
    targets = [UNKNOWN] + ([organization] if claim.relation is None else [])
    for organization_id in targets:
        response = api.delete_organization_relation(organization_id)
        assert response.status_code == 404 and kind(response) == "organization_relation_not_found", organization_id


# -- the shared claim: made by the first of these tests, deleted by the G4 tests ---------------------------


@documented
def test_G2_a_claim_makes_the_relation_and_consumes_the_token(api, claim, organization):
    relation = claim.hold()
    assert relation["externalServiceId"] == api.service and relation["organizationId"] == organization
    assert relation["externalOrganizationId"] == claim.external_id and isinstance(relation["id"], str)
    again = api.claim(claim.token, claim.external_id)
    assert again.status_code == 409 and kind(again) == "connect_token_unusable"


@documented
def test_G2_a_claim_with_the_same_external_id_confirms_the_relation(api, claim, tokens):
    relation = claim.hold()
    token = tokens.fresh()
    response = api.claim(token, claim.external_id)
    assert response.status_code == 200, response.text
    confirmed = response.json()
    assert (confirmed["id"], confirmed["organizationId"]) == (relation["id"], relation["organizationId"])
    assert confirmed["externalOrganizationId"] == claim.external_id
    again = api.claim(token, claim.external_id)
    assert again.status_code == 409 and kind(again) == "connect_token_unusable"


@documented
def test_G2_a_claim_with_another_external_id_is_mismatch_and_changes_nothing(api, scenario, claim, tokens):
    relation = claim.hold()
    token = tokens.fresh()
    response = api.claim(token, scenario.id("another"))
    assert response.status_code == 409 and kind(response) == "external_organization_id_mismatch", response.text
    confirmed = api.claim(token, claim.external_id)  # the refused claim left the token usable and the relation
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["id"], confirmed.json()["externalOrganizationId"]) == (relation["id"], claim.external_id)


@decision
def test_G3_from_the_claim_on_the_organizations_courts_are_accessible(api, scenario, claim, court):
    claim.hold()
    read = api.court(court)
    assert read.status_code == 200 and read.json()["id"] == court, read.text
    listed = api.facility_courts(read.json()["facilityId"], limit=100)
    assert listed.status_code == 200 and court in {c["id"] for c in listed.json()["items"]}, listed.text
    booked = api.upsert(scenario.id(), courtId=court)
    assert booked.status_code == 200, booked.text


@decision
def test_G4_afterwards_the_courts_are_denied_and_bookings_stay_the_services(api, scenario, claim, court):
    claim.hold()
    made = api.upsert(scenario.id("while"), courtId=court)
    assert made.status_code == 200, made.text
    deleted = claim.release()
    assert deleted.status_code == 200 and deleted.json() == {}, deleted.text
    for response in (api.court(court), api.upsert(scenario.id("after"), courtId=court)):
        assert response.status_code == 403 and kind(response) == "organization_access_denied", response.request
    assert api.get(scenario.id("after")).status_code == 404
    assert api.get(scenario.id("while")).json() == made.json()
    assert api.own_ids(externalCourtBookingId=scenario.id("while")) == [scenario.id("while")]
    gone = api.delete(scenario.id("while"), scenario.version(1))
    assert gone.status_code == 200 and gone.json() == {}
    assert api.get(scenario.id("while")).status_code == 404


@documented
def test_G4_delete_removes_the_relation_and_is_not_idempotent(api, claim, organization):
    claim.hold()
    first = claim.release()
    assert first.status_code == 200 and first.json() == {}, first.text
    again = api.delete_organization_relation(organization)
    assert again.status_code == 404 and kind(again) == "organization_relation_not_found"


# -- G5: PRO subscriptions -------------------------------------------------------------------------------


def subscribed(api, organization: str, user_id: str, subscription: str = "PRO") -> None:
    response = api.subscribe(organization, user_id, subscription)
    assert response.status_code == 200 and response.json() == {}, response.text


@documented
def test_G5_pro_for_a_visible_user_is_200_and_repeating_it_changes_nothing(api, related):
    user = api.new_user("pro")
    first = api.subscribe(related, user["id"], "PRO")
    if first.status_code == 403 and kind(first) == "pro_user_quota_exceeded":
        pytest.skip("organizations.related has no free PRO place")
    assert first.status_code == 200 and first.json() == {}, first.text
    subscribed(api, related, user["id"])


@decision
def test_G5_none_ends_the_membership_and_repeating_it_changes_nothing(api, related):
    user = api.new_user("none")
    subscribed(api, related, user["id"], "NONE")  # no membership yet: nothing to end
    first = api.subscribe(related, user["id"], "PRO")
    assert first.status_code == 200 or kind(first) == "pro_user_quota_exceeded", first.text
    for _ in range(2):
        subscribed(api, related, user["id"], "NONE")


@decision
def test_G5_more_pro_members_than_the_quota_is_pro_user_quota_exceeded(api, related):
    quota = api.target.pro_quota
    if quota is None:
        pytest.skip("the target profile has no wingfield.organizations.related_pro_quota")
    users = [api.new_user(f"quota{n}")["id"] for n in range(quota + 1)]
    answers = [api.subscribe(related, user_id, "PRO") for user_id in users]
    accepted = [u for u, r in zip(users, answers, strict=True) if r.status_code == 200]
    full = [u for u, r in zip(users, answers, strict=True) if r.status_code == 403]
    assert len(accepted) + len(full) == len(users), [r.text for r in answers]
    assert all(kind(r) == "pro_user_quota_exceeded" for r in answers if r.status_code == 403)
    assert full and len(accepted) <= quota, f"{len(accepted)} PRO members were added beyond a quota of {quota}"
    if accepted:
        subscribed(api, related, accepted[0])  # a member again: no change, so no refusal at the full quota
        subscribed(api, related, accepted[0], "NONE")  # a place is free again
        subscribed(api, related, full[0])


@documented
def test_G5_unknown_organization_is_organization_not_found(api):
    user = api.new_user("member")
    response = api.subscribe(UNKNOWN, user["id"], "PRO")
    assert response.status_code == 404 and kind(response) == "organization_not_found"


@documented
def test_G5_organization_without_relation_is_organization_access_denied(api, claim, organization):
    if claim.relation is not None:
        claim.release()
    user = api.new_user("member")
    response = api.subscribe(organization, user["id"], "PRO")
    assert response.status_code == 403 and kind(response) == "organization_access_denied"


@documented
def test_G5_unknown_user_is_user_not_found(api, related):
    response = api.subscribe(related, UNKNOWN, "PRO")
    assert response.status_code == 404 and kind(response) == "user_not_found"


@decision
def test_G5_a_user_who_is_not_visible_is_user_not_found(api, related):
    hidden = [optional(api.target, "users", "unrelated")]
    if pending := api.target.users.get("pending"):
        hidden.append(pending)
    for user_id in hidden:
        response = api.subscribe(related, user_id, "PRO")
        assert response.status_code == 404 and kind(response) == "user_not_found", user_id


@decision
@pytest.mark.parametrize("value", ["GOLD", "pro", None])
def test_G5_subscription_is_pro_or_none(api, related, value):
    user = api.new_user("strict")
    response = api.subscribe(related, user["id"], value)
    assert response.status_code == 400 and kind(response) == "invalid_schema"


@decision
def test_A3_organization_area_needs_organization_scope(api, scenario, organization, related):
    """`organization:write` for claims, relation deletes and subscriptions; each request would otherwise be
    refused for another reason (an unknown token, no relation), or changes only the test's own user."""
    read_only = api.as_(optional(api.target, "tokens", "read_only"))
    user = api.new_user("scoped")
    for response in (
        read_only.claim(unknown_token(), scenario.id("org")),
        read_only.delete_organization_relation(organization),
        read_only.subscribe(related, user["id"], "PRO"),
    ):
        assert response.status_code == 403 and kind(response) == "scope_permission_denied", response.request
