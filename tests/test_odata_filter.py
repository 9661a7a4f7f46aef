"""exports.odata_filter: OData $filter on date properties, parsed without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from exports.odata_filter import Condition, parse
from fieldkit.errors import Problem

FIELDS = {"day": "date", "time": "datetime"}


def test_comparisons_joined_by_and() -> None:
    assert parse("day ge 2024-01-01 and day lt 2024-07-01", FIELDS) == [  # type: ignore[arg-type]
        Condition("day", "ge", date(2024, 1, 1)),
        Condition("day", "lt", date(2024, 7, 1)),
    ]


def test_every_operator() -> None:
    for op in ("eq", "ne", "gt", "ge", "lt", "le"):
        assert parse(f"day {op} 2024-05-14", FIELDS) == [Condition("day", op, date(2024, 5, 14))]  # type: ignore[arg-type]


def test_date_times_with_offsets_and_fractions() -> None:
    assert parse("time gt 2024-05-14T09:00:00Z", FIELDS) == [  # type: ignore[arg-type]
        Condition("time", "gt", datetime(2024, 5, 14, 9, tzinfo=UTC))
    ]
    (condition,) = parse("time le 2024-05-14T09:30:15.250+10:00", FIELDS)  # type: ignore[arg-type]
    assert condition.value == datetime(2024, 5, 14, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=10)))
    (condition,) = parse("time ge 2024-05-14T09:30-05:00", FIELDS)  # type: ignore[arg-type]
    assert condition.value == datetime(2024, 5, 14, 14, 30, tzinfo=UTC)


def test_a_date_on_a_date_time_property_is_midnight_utc() -> None:
    assert parse("time ge 2024-05-14", FIELDS) == [  # type: ignore[arg-type]
        Condition("time", "ge", datetime(2024, 5, 14, tzinfo=UTC))
    ]


def test_parentheses_and_spaces() -> None:
    assert parse("  (day ge 2024-01-01) and ((time lt 2024-02-01T00:00:00Z))  ", FIELDS) == [  # type: ignore[arg-type]
        Condition("day", "ge", date(2024, 1, 1)),
        Condition("time", "lt", datetime(2024, 2, 1, tzinfo=UTC)),
    ]


def test_an_empty_filter_is_no_condition() -> None:
    assert parse("", FIELDS) == []  # type: ignore[arg-type]
    assert parse("   ", FIELDS) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("day ge", "ends where a date"),
        ("day", "ends where an operator"),
        ("day gte 2024-01-01", "operator (eq, ne, gt, ge, lt, le) expected at position 5"),
        ("day ge yesterday", "expected at position 8, found 'yesterday'"),
        ("day ge '2024-01-01'", "found \"'2024-01-01'\""),
        ("day ge 2024-02-30", "not a valid date"),
        ("day ge 2024-01-01T10:00:00", "found '2024-01-01T10:00:00'"),
        ("day ge 2024-01-01T10:00:00Z", "day is a date: compare it with a date such as 2024-01-01"),
        ("name eq 2024-01-01", "no date property 'name'"),
        ("day ge 2024-01-01 or day le 2024-02-01", "'and' or the end expected at position 19, found 'or'"),
        ("not day ge 2024-01-01", "only 'and' joins conditions"),
        ("(day ge 2024-01-01", "the filter ends where ')' was expected"),
        ("day ge 2024-01-01)", "found ')'"),
        ("day ge 2024-01-01 and", "ends where a property name"),
        ("and day ge 2024-01-01", "no date property 'and'"),
    ],
)
def test_what_is_not_understood_says_what_was_expected(text: str, says: str) -> None:
    with pytest.raises(Problem) as caught:
        parse(text, FIELDS)  # type: ignore[arg-type]
    assert caught.value.code == "400.83"
    assert caught.value.status == 400
    assert says in caught.value.message, caught.value.message
