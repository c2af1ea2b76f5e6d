"""Helpers of the cohort tests."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from cohortes import services


def dates(start=None, months=6):
    start = start or timezone.localdate()
    return {"date_debut": start, "date_fin": start + relativedelta(months=months)}


def make_cohort(cw, cadres=None, *, start=None, months=6, **extra):
    """A cohort of ministry A from a list of matricules (all the vivier by default)."""
    cadres = cw["cadres"] if cadres is None else cadres
    return services.create_cohort(
        cw["delegue_a"],
        nom=extra.pop("nom", "Cycle des futurs directeurs 2026"),
        structure=cw["a"],
        origine="liste",
        liste="\n".join(c.matricule for c in cadres),
        **dates(start, months),
        **extra,
    )


def days_ago(n):
    return timezone.now() - timedelta(days=n)


def start_weeks_ago(weeks):
    return timezone.localdate() - timedelta(weeks=weeks)
