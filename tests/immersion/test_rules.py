"""The rules of décret n° 2022-1043 for an immersion request (immersion.rules), pure
functions: 2 to 10 working days, at most 20 days over any 3 years, 3 months' notice
unless the hierarchy agreed, and the one-month decision deadline. French messages
are checked word for word: they are what the agent reads."""

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from accompagnement.working_days import is_working_day, next_working_day
from immersion import rules


def working_days(start, count):
    """``count`` working days from ``start`` on (weekends and holidays skipped)."""
    out, day = [], start
    while len(out) < count:
        day = next_working_day(day)
        out.append(day)
        day += timedelta(days=1)
    return out


REQUESTED = date(2027, 1, 4)  # a Monday
MAY = working_days(date(2027, 5, 18), 10)  # ten working days, after Pentecost Monday


def errors(days, other=(), requested_on=REQUESTED, short_notice_agreed=False):
    return rules.check_request(list(days), list(other), requested_on, short_notice_agreed)


# --- 2 to 10 working days --------------------------------------------------------------


def test_the_fixtures_are_what_the_tests_say():
    assert date(2027, 7, 14).weekday() == 2 and not is_working_day(date(2027, 7, 14))
    assert date(2027, 11, 11).weekday() == 3 and not is_working_day(date(2027, 11, 11))
    assert all(is_working_day(d) for d in MAY) and len(set(MAY)) == 10


def test_a_valid_request_has_no_error():
    assert errors(MAY[:2]) == []
    assert errors(MAY) == []


def test_days_need_not_be_consecutive():
    assert errors([date(2027, 6, 1), date(2027, 6, 8), date(2027, 9, 14)]) == []


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2027, 7, 14), "14/07/2027"),  # fête nationale, a Wednesday
        (date(2027, 11, 11), "11/11/2027"),  # armistice, a Thursday
        (date(2027, 5, 6), "06/05/2027"),  # Ascension
    ],
)
def test_a_public_holiday_inside_the_list_is_refused(day, label):
    days = [day - timedelta(days=1), day, day + timedelta(days=1)]
    assert errors(days) == [f"Le {label} est un jour férié : seuls les jours ouvrés comptent."]


def test_a_weekend_day_is_refused():
    days = [date(2027, 7, 16), date(2027, 7, 17), date(2027, 7, 19)]  # Fri, Sat, Mon
    assert errors(days) == ["Le 17/07/2027 est un week-end : seuls les jours ouvrés comptent."]
    assert rules.check_days([date(2027, 7, 18), date(2027, 7, 19), date(2027, 7, 20)]) == [
        "Le 18/07/2027 est un week-end : seuls les jours ouvrés comptent."
    ]


def test_each_non_working_day_is_named_in_date_order():
    days = [date(2027, 11, 11), date(2027, 7, 17), date(2027, 7, 14), date(2027, 7, 15)]
    assert rules.check_days(days) == [
        "Le 14/07/2027 est un jour férié : seuls les jours ouvrés comptent.",
        "Le 17/07/2027 est un week-end : seuls les jours ouvrés comptent.",
        "Le 11/11/2027 est un jour férié : seuls les jours ouvrés comptent.",
    ]


def test_one_day_is_too_short_two_is_enough():
    assert errors(MAY[:1]) == ["Une immersion dure au moins 2 jours ouvrés (1 indiqué)."]
    assert errors(MAY[:2]) == []


def test_no_day_at_all():
    assert rules.check_days([]) == ["Une immersion dure au moins 2 jours ouvrés (0 indiqué)."]
    assert errors([]) == ["Une immersion dure au moins 2 jours ouvrés (0 indiqué)."]


def test_ten_days_are_allowed_eleven_are_not():
    eleven = working_days(date(2027, 5, 18), 11)
    assert errors(eleven[:10]) == []
    assert errors(eleven) == ["Une immersion dure au plus 10 jours ouvrés (11 indiqués)."]


def test_duplicates_count_once():
    assert errors([MAY[0], MAY[0]]) == ["Une immersion dure au moins 2 jours ouvrés (1 indiqué)."]
    assert errors(MAY + MAY[:3]) == []  # still ten distinct days
    assert errors([date(2027, 7, 14)] * 3 + MAY[:2]) == [
        "Le 14/07/2027 est un jour férié : seuls les jours ouvrés comptent."
    ]  # named once


def test_a_holiday_and_too_many_days_give_both_messages():
    days = working_days(date(2027, 7, 5), 10) + [date(2027, 7, 14)]
    assert errors(days) == [
        "Le 14/07/2027 est un jour férié : seuls les jours ouvrés comptent.",
        "Une immersion dure au plus 10 jours ouvrés (11 indiqués).",
    ]


# --- 20 days over any 3 years ----------------------------------------------------------

PAST = working_days(date(2026, 3, 2), 10)  # an immersion already done
PLANNED = working_days(date(2027, 9, 6), 8)  # another one planned


def ceiling_message(start, total):
    return (
        f"Sur trois ans à compter du {start:%d/%m/%Y}, cette demande porterait vos jours "
        f"d'immersion à {total}, au-delà du plafond de 20 jours."
    )


def test_exactly_twenty_days_over_three_years_is_allowed():
    assert rules.check_ceiling(MAY[:2], PAST + PLANNED) == []
    assert errors(MAY[:2], PAST + PLANNED) == []


def test_twenty_one_days_are_refused_counting_past_and_planned_immersions():
    assert errors(MAY[:3], PAST + PLANNED) == [ceiling_message(PAST[0], 21)]
    # Past days alone, planned days alone: each kind counts.
    assert errors(MAY[:10], PAST + PLANNED[:1]) == [ceiling_message(PAST[0], 21)]
    assert errors(MAY[:10], PLANNED + working_days(date(2028, 1, 10), 3)) == [
        ceiling_message(MAY[0], 21)
    ]


def test_duplicated_new_days_count_once_in_the_ceiling():
    assert errors(MAY[:2] + MAY[:2], PAST + PLANNED) == []


def test_the_window_rolls_across_years():
    first = working_days(date(2027, 1, 11), 10)  # January 2027
    second = working_days(date(2028, 6, 5), 9)  # June 2028
    requested = date(2029, 6, 1)
    # Two years and eleven months after the first immersion: the same window.
    later = working_days(date(2029, 12, 10), 2)
    assert later[-1] < first[0] + relativedelta(years=2, months=11, days=10)
    assert errors(later, first + second, requested_on=requested) == [ceiling_message(first[0], 21)]
    # Three years and a day after its last day, the first immersion no longer counts.
    after = first[-1] + relativedelta(years=3, days=1)
    assert is_working_day(after)
    assert errors(working_days(after, 2), first + second, requested_on=requested) == []


def test_the_window_boundary_three_years_to_the_day():
    first = working_days(date(2027, 1, 11), 10)
    second = working_days(date(2028, 6, 5), 10)  # twenty days already
    requested = date(2029, 6, 1)
    last_inside = first[0] + relativedelta(years=3) - timedelta(days=1)
    assert is_working_day(last_inside)
    assert errors(working_days(last_inside, 2), first + second, requested_on=requested) == [
        ceiling_message(first[0], 21)
    ]
    three_years_after_the_last = first[-1] + relativedelta(years=3)
    assert is_working_day(three_years_after_the_last)
    assert (
        errors(working_days(three_years_after_the_last, 2), first + second, requested_on=requested)
        == []
    )


def test_a_window_is_three_years_long_first_day_included_last_excluded():
    day = date(2027, 3, 1)
    assert rules.heaviest_window([day, day + relativedelta(years=3) - timedelta(days=1)]) == (
        2,
        day,
    )
    assert rules.heaviest_window([day, day + relativedelta(years=3)]) == (1, day)


def test_heaviest_window_of_nothing():
    assert rules.heaviest_window([]) == (0, None)


# --- 3 months' notice --------------------------------------------------------------------


def notice_message(first, deadline):
    return (
        f"La demande doit être faite au moins trois mois avant le premier jour "
        f"(le {first:%d/%m/%Y} : demande à faire avant le {deadline:%d/%m/%Y}), sauf "
        "accord de la hiérarchie pour un délai plus court."
    )


def test_the_day_exactly_three_months_later_is_enough_notice():
    requested = date(2027, 3, 1)
    assert requested + relativedelta(months=3) == date(2027, 6, 1)
    assert errors([date(2027, 6, 1), date(2027, 6, 2)], requested_on=requested) == []


def test_one_day_less_than_three_months_is_refused():
    requested = date(2027, 3, 1)
    days = [date(2027, 5, 31), date(2027, 6, 1)]
    assert errors(days, requested_on=requested) == [
        notice_message(date(2027, 5, 31), date(2027, 2, 28))
    ]


def test_short_notice_is_accepted_with_the_hierarchys_agreement():
    requested = date(2027, 3, 1)
    days = [date(2027, 3, 15), date(2027, 3, 16)]
    assert rules.check_notice(days, requested, short_notice_agreed=False)
    assert errors(days, requested_on=requested, short_notice_agreed=True) == []


def test_notice_is_counted_from_the_first_day_whatever_the_order():
    requested = date(2027, 3, 1)
    days = [date(2027, 9, 1), date(2027, 5, 31), date(2027, 6, 15)]
    assert errors(days, requested_on=requested) == [
        notice_message(date(2027, 5, 31), date(2027, 2, 28))
    ]


def test_no_day_no_notice_error():
    assert rules.check_notice([], REQUESTED, False) == []


def test_every_rule_broken_at_once():
    assert errors([date(2027, 1, 16)], PAST + PLANNED) == [
        "Le 16/01/2027 est un week-end : seuls les jours ouvrés comptent.",
        "Une immersion dure au moins 2 jours ouvrés (1 indiqué).",
        notice_message(date(2027, 1, 16), date(2026, 10, 16)),
    ]


# --- Decision within one month -------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (date(2027, 1, 31), date(2027, 2, 28)),  # end of February
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2027, 3, 15), date(2027, 4, 15)),
        (date(2027, 12, 20), date(2028, 1, 20)),  # across the year
    ],
)
def test_decision_deadline_is_one_month_after_receipt(received, deadline):
    assert rules.decision_deadline(received) == deadline


def test_working_days_between_skips_weekends_and_holidays():
    assert rules.working_days_between(date(2027, 7, 12), date(2027, 7, 19)) == [
        date(2027, 7, 12),
        date(2027, 7, 13),
        date(2027, 7, 15),
        date(2027, 7, 16),
        date(2027, 7, 19),
    ]


# --- Property: the heaviest window is the maximum over every 3-year window ---------------


def working_day(low, high):
    return st.dates(min_value=low, max_value=high).map(next_working_day)


# Spread over eight years, or crowded into four so that the ceiling is often passed.
day_lists = st.one_of(
    st.lists(working_day(date(2025, 1, 1), date(2032, 12, 31)), max_size=30),
    st.lists(working_day(date(2026, 1, 1), date(2029, 12, 31)), min_size=15, max_size=40),
)


def brute_force_heaviest(days):
    """Count the days of every 3-year window, one per calendar day it may start on."""
    if not days:
        return 0
    best, start = 0, min(days) - relativedelta(years=3)
    while start <= max(days):
        end = start + relativedelta(years=3)
        best = max(best, sum(1 for d in days if start <= d < end))
        start += timedelta(days=1)
    return best


@settings(max_examples=100, deadline=None)
@given(day_lists)
def test_heaviest_window_is_the_maximum_over_every_window(days):
    best, start = rules.heaviest_window(days)
    assert best == brute_force_heaviest(days)
    if days:
        end = start + relativedelta(years=3)
        assert sum(1 for d in days if start <= d < end) == best
    # and the ceiling refuses exactly when some window holds more than 20 days
    assert bool(rules.check_ceiling(days, [])) == (brute_force_heaviest(sorted(set(days))) > 20)


def test_an_old_excess_does_not_block_a_request_outside_its_window():
    """Days already over the ceiling long ago (say, before the rule was enforced) do
    not forbid a request whose own 3-year windows stay within 20 days."""
    old = [
        date(2020, 1, 6) + timedelta(days=i)
        for i in range(0, 40)
        if (date(2020, 1, 6) + timedelta(days=i)).weekday() < 5
    ][:25]
    new = [date(2027, 3, 2), date(2027, 3, 3)]
    assert rules.check_ceiling(new, old) == []
