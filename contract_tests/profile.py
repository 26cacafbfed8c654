"""Target profiles: what the suite needs to know about an implementation, read from a YAML file."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

BUNDLED_MOCK_PROFILE = Path(__file__).resolve().parent / "targets" / "mock.yaml"
DEFAULT_BOOKING_WINDOW = (datetime(2090, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


class ProfileError(Exception):
    """A profile that cannot be used; the message names the file and the key."""


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


def load_profile(path: Path, base_url: str | None = None) -> Profile:
    """`base_url` replaces the profile's (the bundled mock runs on a free port)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the target profile ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not ({"wingfield", "onlive"} & raw.keys()):
        raise ProfileError(f"{path}: a target profile needs a 'wingfield' or an 'onlive' section")
    wingfield = _wingfield(path, raw["wingfield"], base_url) if raw.get("wingfield") is not None else None
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


def _wingfield(path: Path, section: Any, base_url: str | None) -> WingfieldTarget:
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
    )


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
