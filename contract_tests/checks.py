"""schemathesis checks of the contract beyond the schema (loaded by schemathesis.toml `hooks`)."""

from urllib.parse import urlparse

import schemathesis

from .spec import error_contract_problems, load_spec


def _relative(path: str) -> str:
    base = urlparse(load_spec()["servers"][0]["url"]).path.rstrip("/")
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
    problems = error_contract_problems(
        case.method, _relative(urlparse(response.request.url).path), response.status_code, content_type, body
    )
    assert not problems, "; ".join(problems)
    return None


@schemathesis.check
def token_accepted(ctx, response, case) -> bool | None:
    """A wrong test token must not give a green run: a 401 to a request carrying the run's own token fails.

    Requests whose credentials schemathesis generated on purpose (auth probes) are left alone.
    """
    if response.status_code != 401:
        return None
    sent = response.request.headers.get("Authorization")
    configured = {k.lower(): v for k, v in (ctx.internals.headers or {}).items()}.get("authorization")
    supplied = sent == configured if configured else bool(getattr(case, "_has_explicit_auth", False))
    if sent and supplied:
        raise AssertionError(f"the run's token was refused: {response.text[:200]}")
    return None
