"""Instants: parsed from RFC 3339 into aware UTC datetimes, written back as UTC with `Z` (B6, B28)."""

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_RFC3339 = re.compile(  # ASCII digits only; used with fullmatch, since `$` would also accept a final newline
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WORLD_INSTANT = datetime(2020, 1, 1, tzinfo=UTC)  # when seed records without timestamps were written


class InvalidInstant(ValueError):
    """A string that is not an RFC 3339 date-time, or one outside the representable range."""


def parse_instant(text: str) -> datetime:
    """Parse to UTC. Fractions beyond microseconds are truncated; all offsets of one instant compare equal."""
    if not isinstance(text, str):
        raise InvalidInstant(f"{text!r} is not an RFC 3339 date-time")
    return _parse(text)


@lru_cache(maxsize=4096)  # the same instants come again and again (versions, a day's slots, filters)
def _parse(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InvalidInstant(f"{text!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if offset in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise InvalidInstant(f"{text!r} has an invalid UTC offset")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz)
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInstant(f"{text!r} is not a valid instant ({exc})") from None


def format_instant(moment: datetime) -> str:
    """UTC with `Z`; the fraction is written only when there is one, without trailing zeros."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def to_micros(moment: datetime) -> int:
    """Exact integer key for ordering (floats lose microseconds at today's epoch values)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def format_instant_ms(moment: datetime) -> str:
    """UTC with milliseconds and `Z`, as ONLIVE.SITE writes it: `2025-03-09T19:32:03.735Z`."""
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"
