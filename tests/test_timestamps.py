"""Instants (B6, B28): RFC 3339 in, aware UTC datetimes inside, UTC with `Z` out; exact integer ordering keys."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mock_server.timestamps import EPOCH, InvalidInstant, format_instant, parse_instant, to_micros

NOON = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2031-01-01T12:00:00Z",
        "2031-01-01T12:00:00z",
        "2031-01-01t12:00:00Z",
        "2031-01-01T12:00:00.000Z",
        "2031-01-01T12:00:00.000000000Z",
        "2031-01-01T12:00:00+00:00",
        "2031-01-01T12:00:00-00:00",
        "2031-01-01T13:00:00+01:00",
        "2031-01-01T17:30:00+05:30",
        "2031-01-01T07:00:00-05:00",
        "2031-01-02T11:59:00+23:59",
        "2030-12-31T12:01:00-23:59",
    ],
)
def test_same_instant_in_every_shape(text):
    parsed = parse_instant(text)
    assert parsed == NOON
    assert parsed.tzinfo is UTC and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("2031-01-01T12:00:00.5Z", 500000),
        ("2031-01-01T12:00:00.05Z", 50000),
        ("2031-01-01T12:00:00.123456Z", 123456),
        ("2031-01-01T12:00:00.1234567Z", 123456),  # truncated, not rounded
        ("2031-01-01T12:00:00.9999999999Z", 999999),
        ("2031-01-01T12:00:00.000001Z", 1),
        ("2031-01-01T12:00:00.0000009Z", 0),
    ],
)
def test_fractions_are_truncated_past_microseconds(text, micros):
    assert parse_instant(text) == NOON + timedelta(microseconds=micros)


def test_fraction_with_offset_and_day_change():
    assert parse_instant("2031-01-01T00:30:00.25+01:00") == datetime(2030, 12, 31, 23, 30, 0, 250000, tzinfo=UTC)
    assert parse_instant("2024-02-29T23:00:00-01:00") == datetime(2024, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2031-01-01",
        "2031-01-01T12:00:00",  # no offset
        "2031-01-01 12:00:00Z",  # space separator
        "2031-01-01T12:00Z",  # no seconds
        "2031-01-01T12:00:00.Z",  # empty fraction
        "2031-01-01T12:00:00,5Z",
        "2031-1-01T12:00:00Z",
        "31-01-01T12:00:00Z",
        "+2031-01-01T12:00:00Z",
        "2031-01-01T12:00:00+0100",
        "2031-01-01T12:00:00+01",
        "2031-01-01T12:00:00UTC",
        " 2031-01-01T12:00:00Z",
        "2031-01-01T12:00:00Z ",
        "2031-01-01T12:00:00ZZ",
        "2031-01-01T12:00:00+01:00Z",
        "1735732800",
        "yesterday",
    ],
)
def test_invalid_shapes(text):
    with pytest.raises(InvalidInstant, match="not an RFC 3339 date-time"):
        parse_instant(text)


@pytest.mark.parametrize("value", [None, 1735732800, 1.5, b"2031-01-01T12:00:00Z", NOON])
def test_non_strings_are_invalid(value):
    with pytest.raises(InvalidInstant):
        parse_instant(value)


@pytest.mark.parametrize("offset", ["+24:00", "-24:00", "+00:60", "-05:99", "+99:00"])
def test_invalid_offsets(offset):
    with pytest.raises(InvalidInstant, match="invalid UTC offset"):
        parse_instant(f"2031-01-01T12:00:00{offset}")


@pytest.mark.parametrize(
    "text",
    [
        "2031-02-29T12:00:00Z",
        "2031-13-01T12:00:00Z",
        "2031-00-01T12:00:00Z",
        "2031-01-32T12:00:00Z",
        "2031-01-00T12:00:00Z",
        "2031-01-01T24:00:00Z",
        "2031-01-01T12:60:00Z",
        "2031-01-01T12:00:60Z",  # leap seconds are not representable
        "0000-01-01T00:00:00Z",
    ],
)
def test_invalid_fields(text):
    with pytest.raises(InvalidInstant, match="not a valid instant"):
        parse_instant(text)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:59:59.999999+01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:00:00-01:00",
    ],
)
def test_out_of_range_instants(text):
    with pytest.raises(InvalidInstant, match="not a valid instant"):
        parse_instant(text)


def test_invalid_instant_is_a_value_error():
    assert issubclass(InvalidInstant, ValueError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("0001-01-01T01:00:00+01:00", datetime(1, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00-01:00", datetime(1, 1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("9999-12-31T23:59:59+01:00", datetime(9999, 12, 31, 22, 59, 59, tzinfo=UTC)),
    ],
)
def test_edges_of_the_range(text, expected):
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["2031-01-01T12:00:00Z\n", "2031-01-01T12:00:00+01:00\n"])
def test_trailing_newline_is_invalid(text):
    with pytest.raises(InvalidInstant):
        parse_instant(text)


@pytest.mark.parametrize(
    "text", ["２０３１-01-01T12:00:00Z", "2031-01-01T12:00:00.\u0665Z", "2031-01-01T12:00:00+\u0660\u0661:00"]
)
def test_non_ascii_digits_are_invalid(text):
    with pytest.raises(InvalidInstant):
        parse_instant(text)


# -- format_instant --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NOON, "2031-01-01T12:00:00Z"),
        (NOON + timedelta(microseconds=500000), "2031-01-01T12:00:00.5Z"),
        (NOON + timedelta(microseconds=120000), "2031-01-01T12:00:00.12Z"),
        (NOON + timedelta(microseconds=1), "2031-01-01T12:00:00.000001Z"),
        (NOON + timedelta(microseconds=123456), "2031-01-01T12:00:00.123456Z"),
        (NOON + timedelta(microseconds=100), "2031-01-01T12:00:00.0001Z"),
        (datetime(2031, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))), "2031-01-01T12:00:00Z"),
        (datetime(2031, 1, 1, 7, tzinfo=timezone(timedelta(hours=-5))), "2031-01-01T12:00:00Z"),
        (datetime(2031, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2030-12-31T23:30:00Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_format_is_utc_with_Z_and_minimal_fraction(moment, text):
    assert format_instant(moment) == text


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("0999-12-31T23:59:59.5Z", datetime(999, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)),
    ],
)
def test_years_before_1000_are_written_with_four_digits(text, moment):
    assert parse_instant(text) == moment
    assert format_instant(moment) == text


@pytest.mark.parametrize(
    "text",
    [
        "2031-01-01T12:00:00Z",
        "2031-01-01T12:00:00.1Z",
        "2031-06-30T23:59:59.999999Z",
        "2031-01-01T12:00:00.010203Z",
        "2000-02-29T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.9Z",
    ],
)
def test_round_trip_of_canonical_text(text):
    assert format_instant(parse_instant(text)) == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2031-01-01T13:00:00.500+01:00", "2031-01-01T12:00:00.5Z"),
        ("2031-01-01t12:00:00.000z", "2031-01-01T12:00:00Z"),
        ("2031-01-01T12:00:00.1234567Z", "2031-01-01T12:00:00.123456Z"),
        ("2030-12-31T19:00:00-05:00", "2031-01-01T00:00:00Z"),
    ],
)
def test_parse_then_format_is_canonical(text, canonical):
    assert format_instant(parse_instant(text)) == canonical
    assert parse_instant(canonical) == parse_instant(text)


# -- to_micros -------------------------------------------------------------------------------------


def test_to_micros_is_exact():
    assert to_micros(EPOCH) == 0
    assert to_micros(EPOCH + timedelta(microseconds=1)) == 1
    assert to_micros(EPOCH - timedelta(microseconds=1)) == -1
    assert to_micros(parse_instant("1970-01-01T01:00:00+01:00")) == 0
    assert to_micros(NOON) == 1925035200 * 1_000_000
    big = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert to_micros(big) - to_micros(big - timedelta(microseconds=1)) == 1
    assert to_micros(datetime(1, 1, 1, tzinfo=UTC)) == -62135596800 * 1_000_000


def test_to_micros_keeps_order_where_floats_do_not():
    a = NOON + timedelta(microseconds=1)
    b = NOON + timedelta(microseconds=2)
    assert to_micros(a) < to_micros(b)
    assert isinstance(to_micros(a), int)


def test_to_micros_ignores_the_offset():
    shifted = datetime(2031, 1, 1, 17, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert to_micros(shifted) == to_micros(NOON)
