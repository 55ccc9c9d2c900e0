"""Dates and times given by the user (--start, --week, --from, --to, DATE): one parser
for every command, limited to FIRST..LAST.

The range keeps every computation on a date (plan weeks, chart axes, the day
after a date) inside what Python's datetime can hold (years 1-9999) and refuses
typing errors such as 9999-12-31 or 0001-01-01 with one line; the firmware's
own clock starts at 2021-01-01 when unset, well inside it."""
from datetime import date, datetime

FIRST = date(2000, 1, 1)
LAST = date(2099, 12, 31)


class DateError(ValueError):
    """A date or date-time the user gave that is malformed or outside FIRST..LAST (one line)."""


def _in_range(d, name, text):
    if not FIRST <= d <= LAST:
        raise DateError(f"{name}: {text} is outside {FIRST.isoformat()} .. {LAST.isoformat()}")


def parse_date(value, name):
    """`value` (str, or a date returned as it is; None stays None) as a date in
    FIRST..LAST. name: the option, for the message. DateError otherwise."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise DateError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None
    _in_range(d, name, text)
    return d


def parse_datetime(value, name):
    """`value` as a naive or aware datetime (ISO 8601, e.g. 2024-05-01T09:30:00)
    whose date is in FIRST..LAST. DateError otherwise."""
    text = str(value).strip()
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise DateError(f"{name}: not an ISO date-time (YYYY-MM-DDTHH:MM:SS): {value!r}") from None
    _in_range(t.date(), name, text)
    return t
