"""Budget of external coaching, by ministry and year, for the délégué's perimeter.

- **Engagé** (committed): the quotes (``montant_devis``) of external coachings that
  are contracted, running or finished, counted in the year they start (``date_debut``,
  or the day the engagement was recorded when it has no start date).
- **Dépensé** (spent): the sessions of external coachings held ("réalisée") in the
  year, each at the coach's price per session, or at the quote divided by the planned
  number of sessions when the coach has no price per session.

Rows are grouped by the cadre's ministry (the top of their structure's path). The
figures are summed in SQL: three queries whatever the number of coachings.
"""

from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.db.models import DecimalField, ExpressionWrapper, F, IntegerField, Sum, Value
from django.db.models.functions import Cast, Coalesce, StrIndex, Substr, TruncDate

from cadres.models import Structure

from .models import Coach, Coaching, SeanceCoaching

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

COMMITTED_STATUSES = (
    Coaching.Statut.CONTRACTUALISE,
    Coaching.Statut.EN_COURS,
    Coaching.Statut.TERMINE,
)

HEADERS = ["Ministère", "Année", "Engagé (€ TTC)", "Dépensé (€ TTC)"]


@dataclass
class BudgetRow:
    structure: str
    annee: int
    engage: Decimal = ZERO
    depense: Decimal = ZERO


@dataclass
class Budget:
    annee: int
    rows: list
    engage: Decimal
    depense: Decimal


def _ministry(path):
    """The first segment of a materialised path ("12/40/311/" -> 12), in SQL."""
    return Cast(Substr(path, 1, StrIndex(path, Value("/")) - 1), IntegerField())


def _money(value):
    return (value or ZERO).quantize(CENT)


def compute(coachings, annee):
    """The budget of ``coachings`` (a queryset, already narrowed to a perimeter)
    for the year ``annee``."""
    external = coachings.filter(coach__type=Coach.Type.EXTERNE)

    committed = (
        external.filter(statut__in=COMMITTED_STATUSES)
        .annotate(jour=Coalesce("date_debut", TruncDate("cree_le")))
        .filter(jour__year=annee)
        .annotate(ministere=_ministry("cadre__structure__chemin"))
        .values("ministere")
        .annotate(total=Sum("montant_devis"))
        .order_by()
    )

    price = Coalesce(
        "coaching__coach__tarif_seance",
        ExpressionWrapper(
            F("coaching__montant_devis") / F("coaching__nb_seances_prevues"),
            output_field=DecimalField(max_digits=12, decimal_places=4),
        ),
        output_field=DecimalField(max_digits=12, decimal_places=4),
    )
    spent = (
        SeanceCoaching.objects.filter(
            coaching__in=external.values("pk"),
            statut=SeanceCoaching.Statut.REALISEE,
            debut__year=annee,
        )
        .annotate(ministere=_ministry("coaching__cadre__structure__chemin"))
        .values("ministere")
        .annotate(total=Sum(price))
        .order_by()
    )

    figures = {}
    for line in committed:
        figures.setdefault(line["ministere"], [ZERO, ZERO])[0] = _money(line["total"])
    for line in spent:
        figures.setdefault(line["ministere"], [ZERO, ZERO])[1] = _money(line["total"])

    names = {
        s.pk: str(s)
        for s in Structure.objects.filter(pk__in=list(figures)).only("pk", "nom", "sigle")
    }
    rows = [
        BudgetRow(names.get(pk, "—"), annee, engage, depense)
        for pk, (engage, depense) in figures.items()
        if engage or depense
    ]
    rows.sort(key=lambda r: r.structure.lower())
    return Budget(
        annee=annee,
        rows=rows,
        engage=sum((r.engage for r in rows), ZERO),
        depense=sum((r.depense for r in rows), ZERO),
    )


def dataset(budget):
    """The rows and their total, for CSV and XLSX exports."""
    data = tablib.Dataset(headers=HEADERS, title=f"Budget coaching {budget.annee}")
    for row in budget.rows:
        data.append([row.structure, row.annee, row.engage, row.depense])
    data.append(["Total", budget.annee, budget.engage, budget.depense])
    return data
