"""The rules of décret n° 2022-1043 for a request, each with a French message.

- 2 to 10 working days ("jours ouvrés": no weekend, no French public holiday),
  consecutive or not;
- at most 20 days over any 3 years for the agent, past and planned immersions included;
- requested at least 3 months before the first day, unless the hierarchy agreed to a
  shorter delay.
"""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from accompagnement.working_days import is_working_day

MIN_JOURS = 2
MAX_JOURS = 10
PLAFOND_JOURS = 20
FENETRE = relativedelta(years=3)
PREAVIS = relativedelta(months=3)


def _fr(day: date):
    return f"{day:%d/%m/%Y}"


def check_days(days):
    """Errors about the list of days itself."""
    errors = []
    days = sorted(set(days))
    for day in days:
        if not is_working_day(day):
            kind = "un week-end" if day.weekday() >= 5 else "un jour férié"
            errors.append(f"Le {_fr(day)} est {kind} : seuls les jours ouvrés comptent.")
    if len(days) < MIN_JOURS:
        errors.append(
            f"Une immersion dure au moins {MIN_JOURS} jours ouvrés ({len(days)} indiqué)."
        )
    if len(days) > MAX_JOURS:
        errors.append(
            f"Une immersion dure au plus {MAX_JOURS} jours ouvrés ({len(days)} indiqués)."
        )
    return errors


def heaviest_window(days):
    """The largest number of days falling within one 3-year window, and its start."""
    days = sorted(days)
    best, start = 0, None
    for i, first in enumerate(days):
        end = first + FENETRE
        count = sum(1 for d in days[i:] if d < end)
        if count > best:
            best, start = count, first
    return best, start


def check_ceiling(new_days, other_days):
    """At most 20 days over any 3 years, counting the agent's other immersions. Only the
    windows holding one of the new days matter: the past is not this request's doing."""
    new_days = set(new_days)
    combined = sorted([*new_days, *other_days])
    total, start = 0, None
    for i, first in enumerate(combined):
        end = first + FENETRE
        window = [d for d in combined[i:] if d < end]
        if new_days & set(window) and len(window) > total:
            total, start = len(window), first
    if total > PLAFOND_JOURS:
        return [
            f"Sur trois ans à compter du {_fr(start)}, cette demande porterait vos jours "
            f"d'immersion à {total}, au-delà du plafond de {PLAFOND_JOURS} jours."
        ]
    return []


def check_notice(days, requested_on, short_notice_agreed):
    if not days:
        return []
    first = min(days)
    if first < requested_on + PREAVIS and not short_notice_agreed:
        return [
            f"La demande doit être faite au moins trois mois avant le premier jour "
            f"(le {_fr(first)} : demande à faire avant le {_fr(first - PREAVIS)}), sauf "
            "accord de la hiérarchie pour un délai plus court."
        ]
    return []


def check_request(days, other_days, requested_on, short_notice_agreed=False):
    """Every rule at once: the list of French errors (empty when the request is valid)."""
    errors = check_days(days)
    errors += check_ceiling(days, other_days)
    errors += check_notice(days, requested_on, short_notice_agreed)
    return errors


def days_in_window(days, today, window=FENETRE):
    """Days of the current 3-year window (the last three years and those planned)."""
    return [d for d in days if today - window <= d < today + window]


def decision_deadline(recue_le: date):
    """The hierarchy answers within one month of receipt."""
    return recue_le + relativedelta(months=1)


def working_days_between(start: date, end: date):
    day, out = start, []
    while day <= end:
        if is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out
