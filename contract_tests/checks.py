"""schemathesis hooks of the contract (loaded by schemathesis.toml `hooks`, so `st run` uses them too).

Signing: schemathesis puts SIGN_ME in the `Authorization` of ONLIVE.SITE operations (schemathesis.toml
`[auth.openapi.onliveSignature]`, or `OnliveSignatureAuth`), except where it tests auth on purpose; those
requests are then signed over the exact bytes sent, with ONLIVE_ACCESS_KEY_ID and ONLIVE_SECRET_ACCESS_KEY
(or what `sign_onlive_with` was given, or else the bundled mock's demo key). A 401 to a request so signed
fails the run.

Checks: every error is the documented envelope with a type its operation lists (A5); the run's own token is
never refused. Confinement (active only when the contract suite sets BOOKINGKIT_CONFINE_PREFIX): generated
writes use booking ids with the run's prefix and the profile's scratch court, and created bookings are logged
so the suite can delete them; this is what lets schemathesis run against a shared environment.
"""

import json
import os
import uuid
from urllib.parse import urlparse

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection
from schemathesis.transport.prepare import get_exclude_headers

from bookingkit import signing

from .documented import documented_violations
from .profile import BUNDLED_MOCK_PROFILE, load_profile
from .spec import error_contract_problems, load_spec

BOOKING_ID = "externalCourtBookingId"
MAPPING_WRITES = ("upsertCourtMapping", "deleteCourtMapping")
MAX_ID_LENGTH = 255
# ONLIVE.SITE writes on an existing resource: confined to the resources this run created.
OWN_RESOURCE_WRITES = {
    "updateService": ("id", "service"),
    "deleteBookingService": ("id", "service"),
    "updateAppointment": ("appointmentId", "appointment"),
}
CREATES = {"createService": "service", "createAppointment": "appointment"}
_created_here: dict[str, dict[str, None]] = {kind: {} for kind in CREATES.values()}  # ids by kind, oldest first


def _relative(path: str) -> str:
    base = urlparse(load_spec()["servers"][0]["url"]).path.rstrip("/")
    if "/api/v1/" in path:
        return "/" + path.split("/api/v1/", 1)[1]
    return path[len(base) :] if base and path.startswith(base + "/") else path


@schemathesis.check
def error_envelope(ctx, response, case) -> bool | None:
    """A5: every error is the documented envelope, with a type its operation lists for that status."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    try:
        body = response.json()
    except ValueError:
        body = response.text
    path = _relative(urlparse(response.request.url).path)
    allow = (response.headers.get("allow") or [None])[0]
    problems = error_contract_problems(case.method, path, response.status_code, content_type, body, allow)
    assert not problems, "; ".join(problems)
    return None


@schemathesis.check
def documented_negative_data_rejection(ctx, response, case) -> bool | None:
    """P5: generated negative data must be refused only where it breaks a constraint the docs or decisions.md
    state. schemathesis' own `negative_data_rejection` (switched off in schemathesis.toml) also asserts the
    constraints the spec adds on its own (`x-undocumented-constraints`), which a correct implementation may
    leave unenforced; this one runs it only on requests that, as sent, break a documented constraint.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return None
    locations = {str(where.value) for where, part in meta.components.items() if part.mode.is_negative}
    request = response.request
    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    headers = {name: str(value) for name, value in request.headers.items()}
    violations = documented_violations(
        _operation_id(case) or "", request.url, headers, body, locations or {"path", "query", "header", "body"}
    )
    if not violations:
        return None
    return negative_data_rejection(ctx, response, case)


SIGN_ME = "ONLIVESITE sign-me"


class OnliveSignatureAuth:
    """schemathesis auth provider for in-process runs (`schema.auth()`): marks a request for signing."""

    def get(self, case, ctx) -> str:
        return SIGN_ME

    def set(self, case, data, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


class OnliveSigner(requests.auth.AuthBase):
    """Signs the prepared request, so the signature covers exactly the path, query and body sent."""

    signed: set[str] = set()  # the Authorization values this process produced

    def __init__(self, access_key_id: str, secret: str) -> None:
        self.access_key_id, self.secret = access_key_id, secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        headers = signing.sign(request.method or "GET", request.url or "", body, self.access_key_id, self.secret)
        request.headers.update(headers.as_dict())
        OnliveSigner.signed.add(headers.authorization)
        return request


_onlive_credentials: list[tuple[str, str]] = []


def sign_onlive_with(access_key_id: str, secret: str) -> None:
    """In-process runs: sign ONLIVE.SITE operations with these credentials from now on."""
    _onlive_credentials[:] = [(access_key_id, secret)]


def _onlive_signer() -> OnliveSigner:
    """Credentials: `sign_onlive_with`, else the environment, else the bundled mock's demo key."""
    if _onlive_credentials:
        return OnliveSigner(*_onlive_credentials[0])
    key, secret = os.environ.get("ONLIVE_ACCESS_KEY_ID"), os.environ.get("ONLIVE_SECRET_ACCESS_KEY")
    if key and secret:
        return OnliveSigner(key, secret)
    demo = load_profile(BUNDLED_MOCK_PROFILE).onlive_target
    return OnliveSigner(demo.access_key_id, demo.secret_access_key)


def _is_onlive(case) -> bool:
    return any("onliveSignature" in requirement for requirement in case.operation.definition.raw.get("security", []))


def _configured_authorization(case) -> str | None:
    """An `Authorization` given on the command line (`-H`) or in the config."""
    headers = case.operation.schema.config.headers_for(operation=case.operation) or {}
    return {k.lower(): v for k, v in headers.items()}.get("authorization")


@schemathesis.check
def token_accepted(ctx, response, case) -> bool | None:
    """A wrong test token must not give a green run: a 401 to a request carrying the run's own token, or the
    suite's own ONLIVE signature, fails. Requests whose credentials schemathesis generated on purpose (auth
    probes) are left alone.
    """
    if response.status_code != 401:
        return None
    sent = response.request.headers.get("Authorization")
    if sent in OnliveSigner.signed:
        raise AssertionError(f"the run's own signature was refused: {response.text[:300]}")
    if _is_onlive(case):
        return None  # ONLIVE.SITE requests carry the run's credentials only when signed above
    configured = {k.lower(): v for k, v in (ctx.internals.headers or {}).items()}.get("authorization")
    supplied = sent == configured if configured else bool(getattr(case, "_has_explicit_auth", False))
    if sent and supplied:
        raise AssertionError(f"the run's token was refused: {response.text[:200]}")
    return None


def _operation_id(case) -> str | None:
    return case.operation.definition.raw.get("operationId")


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if _is_onlive(case):
        sent = (case.headers or {}).get("Authorization")
        configured = _configured_authorization(case)
        # The run's own credentials, not a value schemathesis generated or removed to test auth.
        removed = {name.lower() for name in get_exclude_headers(case)}  # e.g. the missing-header probe
        if "authorization" not in removed and (sent == SIGN_ME or (sent is not None and sent == configured)):
            kwargs["auth"] = _onlive_signer()
    prefix = os.environ.get("BOOKINGKIT_CONFINE_PREFIX")
    if not prefix or case.meta is None or case.meta.is_negative_at(ParameterLocation.PATH):
        return  # an invalid path addresses nothing; negative bodies or queries are confined like the rest
    params = case.path_parameters or {}
    if BOOKING_ID in params and not str(params[BOOKING_ID]).startswith(prefix):
        params[BOOKING_ID] = (prefix + str(params[BOOKING_ID]))[:MAX_ID_LENGTH]
    scratch = os.environ.get("BOOKINGKIT_SCRATCH_COURT")
    if scratch and _operation_id(case) in MAPPING_WRITES:
        params["courtId"] = scratch
    if own := OWN_RESOURCE_WRITES.get(_operation_id(case)):
        name, kind = own
        if params.get(name) not in _created_here[kind]:
            params[name] = _own_resource(kind)


def _own_resource(kind: str) -> str:
    """The newest resource of this kind the run created: in a stateful scenario that is what the previous step
    made. Not a random id: schemathesis counts a changed path parameter as one taken from a link, so a 404 to a
    made-up id after a create would read as "created resource not found" (ST302).
    """
    created = _created_here[kind]
    return next(reversed(created)) if created else str(uuid.uuid4())  # none yet: a fresh id is a harmless 404


@schemathesis.hook
def after_call(context, case, response) -> None:
    log = os.environ.get("BOOKINGKIT_CREATED_LOG")
    if not log or response.status_code not in (200, 201):
        return
    operation = _operation_id(case)
    if operation == "upsertCourtBooking":
        body = response.json()
        entry = ["booking", body["externalServiceId"], body["externalCourtBookingId"]]
    elif operation in CREATES:
        entry = [CREATES[operation], response.json()["id"]]
        _created_here[entry[0]][entry[1]] = None
    else:
        return
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
