"""OData v4 `$filter` on dates: a small pure parser, no database.

What Excel, Power BI and ODK Central's users write to fetch a period: comparisons of a date
or date-time property with a literal, joined by `and`, with parentheses:

    day ge 2024-01-01 and day lt 2024-07-01
    time gt 2024-05-14T09:00:00Z and (time le 2024-05-15T00:00:00+10:00)

Operators: eq, ne, gt, ge, lt, le (OData v4 Part 2, §5.1.1.1). Literals: a date
(`2024-05-14`) or a date-time offset (`2024-05-14T09:00:00Z`, seconds and fractions
optional, `Z` or `±hh:mm`). A date compared with a date-time property means that day's
midnight UTC; a date-time compared with a date property is refused (it would have to be
cut to a day in some timezone). Anything else is a catalogued 400 (400.83) that says what
was expected where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from fieldkit import errors

Kind = Literal["date", "datetime"]
OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # one of OPERATORS
    value: date | datetime  # a datetime is always timezone-aware


_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<date>\d{4}-\d{2}-\d{2})(?![\w:.-])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_/]*)"
    r"|(?P<other>\S+))"
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        found.append((kind, match.group(kind), match.start(kind) + 1))
    return found


def _bad(detail: str) -> errors.Problem:
    return errors.ODATA_BAD_FILTER(detail=detail)


def _literal(kind: str, text: str, position: int) -> date | datetime:
    try:
        if kind == "date":
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{text!r} at position {position} is not a valid date") from None
    return value


class _Parser:
    def __init__(self, text: str, fields: dict[str, Kind]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.fields = fields

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise _bad(f"the filter ends where {expected} was expected")
        self.at += 1
        return token

    def expression(self) -> list[Condition]:
        conditions = self.term()
        while (token := self.peek()) is not None and token[0] == "word" and token[1] == "and":
            self.at += 1
            conditions += self.term()
        return conditions

    def term(self) -> list[Condition]:
        kind, text, position = self.take("a property name or '('")
        if kind == "open":
            inner = self.expression()
            closing = self.take("')'")
            if closing[0] != "close":
                raise _bad(f"')' expected at position {closing[2]}, found {closing[1]!r}")
            return inner
        if kind != "word":
            raise _bad(f"a property name expected at position {position}, found {text!r}")
        if text in ("or", "not"):
            raise _bad(f"{text!r} at position {position}: only 'and' joins conditions here")
        if text not in self.fields:
            names = ", ".join(sorted(self.fields)) or "none"
            raise _bad(f"no date property {text!r} (position {position}); the date properties are: {names}")
        op_kind, op, op_position = self.take("an operator (eq, ne, gt, ge, lt, le)")
        if op_kind != "word" or op not in OPERATORS:
            raise _bad(
                f"an operator (eq, ne, gt, ge, lt, le) expected at position {op_position}, found {op!r}"
            )
        value_kind, value_text, value_position = self.take("a date such as 2024-05-14")
        if value_kind not in ("date", "datetime"):
            raise _bad(
                f"a date (2024-05-14) or date-time (2024-05-14T09:00:00Z) expected at position "
                f"{value_position}, found {value_text!r}"
            )
        value = _literal(value_kind, value_text, value_position)
        if self.fields[text] == "date" and isinstance(value, datetime):
            raise _bad(f"{text} is a date: compare it with a date such as {value.date().isoformat()}")
        if self.fields[text] == "datetime" and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return [Condition(text, op, value)]


def parse(text: str, fields: dict[str, Kind]) -> list[Condition]:
    """The conditions of `text` (all must hold), on the date properties `fields` (name ->
    "date" or "datetime"). An empty filter is no condition."""
    if not text.strip():
        return []
    parser = _Parser(text, fields)
    conditions = parser.expression()
    rest = parser.peek()
    if rest is not None:
        raise _bad(f"'and' or the end expected at position {rest[2]}, found {rest[1]!r}")
    return conditions
