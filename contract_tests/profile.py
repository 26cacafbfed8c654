"""Target profiles: what the suite needs to know about an implementation, read from a YAML file."""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

BUNDLED_MOCK_PROFILE = Path(__file__).resolve().parent / "targets" / "mock.yaml"
DEFAULT_BOOKING_WINDOW = (datetime(2090, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


class ProfileError(Exception):
    """A profile that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ControlTarget:
    """A control interface of the target beside the partner API (bookingkit's mock: its admin API), for what
    happens outside the partner API: a user's answer to a relation request (R8), an organization issuing a
    connect token (G1)."""

    url: str
    token: str


@dataclass(frozen=True)
class WingfieldTarget:
    base_url: str
    external_service_id: str
    tokens: dict[str, str]
    granted_courts: tuple[str, str]
    other_external_service_id: str | None = None
    not_granted_court: str | None = None
    scratch_courts: tuple[str, ...] = ()
    not_granted_facility: str | None = None
    users: dict[str, str] = field(default_factory=dict)
    booking_window: tuple[datetime, datetime] = DEFAULT_BOOKING_WINDOW
    organizations: dict[str, str] = field(default_factory=dict)
    pro_quota: int | None = None  # organizations.related_pro_quota
    claimable_tokens: tuple[str, ...] = ()  # connect_tokens.claimable: single-use
    connect_tokens: dict[str, str] = field(default_factory=dict)  # expired, claimed, cancelled
    sessions: dict[str, str] = field(default_factory=dict)
    control: ControlTarget | None = None
    no_control: str = "the target profile has no wingfield.control"  # why `control` is None

    def token(self, name: str) -> str | None:
        return self.tokens.get(name)

    @property
    def scratch_court(self) -> str | None:
        """The court the suite may map and unmap freely (the first of `courts.scratch`)."""
        return self.scratch_courts[0] if self.scratch_courts else None


@dataclass(frozen=True)
class OnliveTarget:
    base_url: str
    access_key_id: str
    secret_access_key: str
    calendar_id: str
    other_org_service_id: str | None = None
    other_access_key_id: str | None = None
    other_secret_access_key: str | None = None


@dataclass(frozen=True)
class Profile:
    path: Path
    wingfield: WingfieldTarget | None
    onlive_target: OnliveTarget | None
    raw: dict[str, Any]

    @property
    def onlive(self) -> dict[str, Any] | None:
        return self.raw.get("onlive")


def load_profile(path: Path, base_url: str | None = None, control_token: str | None = None) -> Profile:
    """`base_url` replaces the profile's (the bundled mock runs on a free port), `control_token` the token of
    its `wingfield.control` section (the bundled mock is started with that admin token)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the target profile ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not ({"wingfield", "onlive"} & raw.keys()):
        raise ProfileError(f"{path}: a target profile needs a 'wingfield' or an 'onlive' section")
    wingfield = (
        _wingfield(path, raw["wingfield"], base_url, control_token) if raw.get("wingfield") is not None else None
    )
    onlive = _onlive(path, raw["onlive"], base_url) if raw.get("onlive") is not None else None
    return Profile(path, wingfield, onlive, raw)


def _onlive(path: Path, section: Any, base_url: str | None) -> OnliveTarget:
    def need(key: str) -> str:
        value = section.get(key) if isinstance(section, dict) else None
        if not isinstance(value, str) or not value:
            raise ProfileError(f"{path}: onlive.{key}: required")
        return value

    url = base_url or need("base_url")
    if not url.startswith(("http://", "https://")):
        raise ProfileError(f"{path}: onlive.base_url: an http(s) URL is required")
    return OnliveTarget(
        url.rstrip("/"),
        need("access_key_id"),
        need("secret_access_key"),
        need("calendar_id"),
        section.get("other_org_service_id"),
        section.get("other_access_key_id"),
        section.get("other_secret_access_key"),
    )


def _wingfield(path: Path, section: Any, base_url: str | None, control_token: str | None = None) -> WingfieldTarget:
    def need(condition: bool, key: str, what: str) -> None:
        if not condition:
            raise ProfileError(f"{path}: wingfield.{key}: {what}")

    need(isinstance(section, dict), "", "must be a mapping")
    url = base_url or section.get("base_url")
    need(isinstance(url, str) and url.startswith(("http://", "https://")), "base_url", "an http(s) URL is required")
    need(isinstance(section.get("external_service_id"), str), "external_service_id", "required")
    tokens = section.get("tokens") or {}
    need(isinstance(tokens, dict) and isinstance(tokens.get("write"), str), "tokens.write", "a write token is required")
    courts = section.get("courts") or {}
    granted = courts.get("granted")
    need(isinstance(granted, list) and len(granted) >= 2, "courts.granted", "at least two court ids are required")
    users = section.get("users") or {}
    need(isinstance(users, dict), "users", "must be a mapping")
    scratch = courts.get("scratch") or []
    scratch = [scratch] if isinstance(scratch, str) else scratch
    need(
        isinstance(scratch, list) and all(isinstance(c, str) for c in scratch),
        "courts.scratch",
        "a court id or a list of court ids",
    )
    facilities = section.get("facilities") or {}
    need(isinstance(facilities, dict), "facilities", "must be a mapping")
    for key in ("users", "organizations", "connect_tokens", "sessions"):
        group = section.get(key) or {}
        need(isinstance(group, dict), key, "must be a mapping")
        for name, value in group.items():
            if (key, name) not in (("connect_tokens", "claimable"), ("organizations", "related_pro_quota")):
                need(isinstance(value, str) and bool(value), f"{key}.{name}", "a non-empty string is required")
    organizations = section.get("organizations") or {}
    quota = organizations.get("related_pro_quota")
    need(
        quota is None or (isinstance(quota, int) and not isinstance(quota, bool) and quota >= 0),
        "organizations.related_pro_quota",
        "a whole number >= 0 is required",
    )
    claimable = (section.get("connect_tokens") or {}).get("claimable") or []
    claimable = [claimable] if isinstance(claimable, str) else claimable
    need(
        isinstance(claimable, list) and all(isinstance(t, str) and t for t in claimable),
        "connect_tokens.claimable",
        "a connect token or a list of connect tokens",
    )
    control, no_control = _control(path, section.get("control"), url, control_token)
    return WingfieldTarget(
        base_url=url.rstrip("/"),
        external_service_id=section["external_service_id"],
        tokens={k: v for k, v in tokens.items() if isinstance(v, str)},
        granted_courts=(granted[0], granted[1]),
        other_external_service_id=section.get("other_external_service_id"),
        not_granted_court=courts.get("not_granted"),
        scratch_courts=tuple(scratch),
        not_granted_facility=facilities.get("not_granted"),
        users={k: v for k, v in users.items() if isinstance(v, str)},
        booking_window=_booking_window(path, section.get("booking_window")),
        organizations={k: v for k, v in organizations.items() if isinstance(v, str)},
        pro_quota=quota,
        claimable_tokens=tuple(claimable),
        connect_tokens={k: v for k, v in (section.get("connect_tokens") or {}).items() if isinstance(v, str)},
        sessions=dict(section.get("sessions") or {}),
        control=control,
        no_control=no_control,
    )


def _control(path: Path, value: Any, base_url: str, token: str | None) -> tuple[ControlTarget | None, str]:
    """`control: {url, token}` or `{url, token_env}`; `url` is an http(s) URL or a path on `base_url`'s host.
    A `token_env` naming an unset variable leaves the target without control, saying why."""
    where = f"{path}: wingfield.control"
    if value is None:
        return None, "the target profile has no wingfield.control"
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: a mapping with 'url' and 'token' or 'token_env' is required")
    url = value.get("url")
    if not isinstance(url, str) or not (url.startswith(("http://", "https://", "/"))):
        raise ProfileError(f"{where}.url: an http(s) URL, or a path on the base_url's host, is required")
    if url.startswith("/"):
        origin = urlsplit(base_url)
        url = f"{origin.scheme}://{origin.netloc}{url}"
    if ("token" in value) == ("token_env" in value):
        raise ProfileError(f"{where}: give either 'token' or 'token_env' (the name of an environment variable)")
    if "token" in value and not (isinstance(value["token"], str) and value["token"]):
        raise ProfileError(f"{where}.token: a non-empty string is required")
    variable = value.get("token_env")
    if variable is not None and not (isinstance(variable, str) and variable):
        raise ProfileError(f"{where}.token_env: the name of an environment variable is required")
    token = token or value.get("token") or os.environ.get(variable or "")
    if not token:
        return None, f"wingfield.control.token_env names {variable}, which is not set"
    return ControlTarget(url.rstrip("/"), token), ""


def _booking_window(path: Path, value: Any) -> tuple[datetime, datetime]:
    """Where the suite may book: `{from, to}` instants at least three days apart (default: the 2090s)."""
    if value is None:
        return DEFAULT_BOOKING_WINDOW
    where = f"{path}: wingfield.booking_window"
    if not isinstance(value, dict) or not {"from", "to"} <= value.keys():
        raise ProfileError(f"{where}: a mapping with 'from' and 'to' (ISO 8601 instants) is required")
    bounds = []
    for key in ("from", "to"):
        raw = value[key]
        try:
            moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise ProfileError(f"{where}.{key}: not an ISO 8601 instant: {raw!r}") from None
        if moment.tzinfo is None:
            raise ProfileError(f"{where}.{key}: give an offset or Z: {raw!r}")
        bounds.append(moment.astimezone(UTC))
    if bounds[1] - bounds[0] < timedelta(days=3):
        raise ProfileError(f"{where}: 'to' must be at least three days after 'from'")
    return bounds[0], bounds[1]
