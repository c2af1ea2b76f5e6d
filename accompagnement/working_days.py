"""Working days ("jours ouvrés"): no weekend, no French public holiday."""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _public_holidays(year):
    return frozenset(holidays.country_holidays("FR", years=[year]).keys())


def public_holiday(day: date):
    return day in _public_holidays(day.year)


def is_working_day(day: date):
    return day.weekday() < 5 and not public_holiday(day)


def next_working_day(day: date):
    """``day`` itself when it is a working day, else the first one after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
