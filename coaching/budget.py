"""External spending, by ministry, scheme and year, for the délégué's perimeter: external
coaching and every other scheme that pays providers (co-development groups run by an
external animateur "sur devis"), side by side.

Coaching (computed here):
- **Engagé** (committed): the quotes (``montant_devis``) of external coachings that
  are contracted, running or finished, counted in the year they start (``date_debut``,
  or the day the engagement was recorded when it has no start date).
- **Dépensé** (spent): the sessions of external coachings held ("réalisée") in the
  year, each at the coach's price per session, or at the quote divided by the planned
  number of sessions when the coach has no price per session.

The other schemes give their own lines through the registry
(``Scheme.external_spending``: structure path, committed, spent), since coaching never
imports another scheme; see ``codev/spending.py`` for co-development's definitions.

Rows are grouped by ministry (the top of the structure's path: the cadre's for coaching,
the group's for co-development). The figures are summed in SQL: a fixed number of
queries whatever the number of engagements and groups.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, ExpressionWrapper, F, IntegerField, Sum, Value
from django.db.models.functions import Cast, Coalesce, StrIndex, Substr, TruncDate
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from accompagnement import registry
from accompagnement.models import Dispositif
from cadres.models import Structure

from .models import Coach, Coaching, SeanceCoaching

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

COMMITTED_STATUSES = (
    Coaching.Statut.CONTRACTUALISE,
    Coaching.Statut.EN_COURS,
    Coaching.Statut.TERMINE,
)

HEADERS = ["Ministère", "Année", "Dispositif", "Engagé (€ TTC)", "Dépensé (€ TTC)"]
ALL_SCHEMES = "Tous dispositifs"
ORDER = {value: i for i, value in enumerate(Dispositif.values)}


@dataclass
class BudgetRow:
    structure: str
    annee: int
    dispositif: str  # the scheme's label
    engage: Decimal = ZERO
    depense: Decimal = ZERO


@dataclass
class Budget:
    annee: int
    rows: list
    engage: Decimal
    depense: Decimal
    # (scheme's label, committed, spent) of each scheme with spending, in scheme order.
    par_dispositif: list = field(default_factory=list)


def _ministry(path):
    """The first segment of a materialised path ("12/40/311/" -> 12), in SQL."""
    return Cast(Substr(path, 1, StrIndex(path, Value("/")) - 1), IntegerField())


def _money(value):
    return (value or ZERO).quantize(CENT)


def coaching_spending(coachings, annee):
    """{ministry pk: (committed, spent)} of ``coachings`` (already narrowed to a
    perimeter) in the year ``annee``. Two queries."""
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
    return figures


def compute(user, annee):
    """The external spending of the year ``annee`` within ``user``'s perimeter (the
    same perimeter as the admin's lists: the cadre's structure for coaching, the
    group's for co-development)."""
    lines = {}  # (ministry pk, dispositif) -> [committed, spent]
    for ministry, (engage, depense) in coaching_spending(
        Coaching.objects.visible_to(user), annee
    ).items():
        lines[ministry, Dispositif.COACHING] = [engage, depense]
    for scheme in registry.all_schemes():
        if scheme.external_spending is None or scheme.dispositif == Dispositif.COACHING:
            continue
        for path, engage, depense in scheme.external_spending(user, annee):
            ministry = int(path.split("/", 1)[0])
            line = lines.setdefault((ministry, scheme.dispositif), [ZERO, ZERO])
            line[0] += _money(engage)
            line[1] += _money(depense)

    names = {
        s.pk: str(s)
        for s in Structure.objects.filter(pk__in={m for m, _ in lines}).only("pk", "nom", "sigle")
    }
    ordered = sorted(
        ((names.get(m, "—"), d, e, s) for (m, d), (e, s) in lines.items() if e or s),
        key=lambda r: (r[0].lower(), ORDER[r[1]]),
    )
    rows = [BudgetRow(name, annee, Dispositif(d).label, e, s) for name, d, e, s in ordered]
    per_scheme = {}
    for _, d, e, s in ordered:
        total = per_scheme.setdefault(d, [ZERO, ZERO])
        total[0] += e
        total[1] += s
    return Budget(
        annee=annee,
        rows=rows,
        engage=sum((r.engage for r in rows), ZERO),
        depense=sum((r.depense for r in rows), ZERO),
        par_dispositif=[
            (Dispositif(d).label, e, s) for d, (e, s) in sorted(per_scheme.items(), key=_order)
        ],
    )


def _order(item):
    return ORDER[item[0]]


def dataset(budget):
    """The rows, a total per scheme and the overall total, for CSV and XLSX exports."""
    data = tablib.Dataset(headers=HEADERS, title=f"Dépenses externes {budget.annee}")
    for row in budget.rows:
        data.append([row.structure, row.annee, row.dispositif, row.engage, row.depense])
    for label, engage, depense in budget.par_dispositif:
        data.append(["Total", budget.annee, label, engage, depense])
    data.append(["Total", budget.annee, ALL_SCHEMES, budget.engage, budget.depense])
    return data


def year_of(value):
    try:
        year = int(value)
    except (TypeError, ValueError):
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


def spending_view(model_admin, request):
    """The admin page (and its CSV/XLSX exports) of external spending, reached from the
    coachings' list (``admin:coaching_coaching_budget``)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    annee = year_of(request.GET.get("annee"))
    result = compute(request.user, annee)
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        data = dataset(result)
        if export == "csv":
            content = data.export("csv").encode("utf-8-sig")  # accents in spreadsheets
            content_type = "text/csv; charset=utf-8"
        else:
            content = data.export("xlsx")
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="depenses-externes-{annee}.{export}"'
        )
        return response
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Dépenses externes (coaching et codéveloppement) – {annee}",
        "budget": result,
        "annee": annee,
        "annee_precedente": annee - 1,
        "annee_suivante": annee + 1,
    }
    return TemplateResponse(request, "admin/coaching/coaching/depenses_externes.html", context)
