"""Budget of external coaching: committed and spent amounts by ministry and year,
within the délégué's perimeter, on the admin page and in the CSV/XLSX exports."""

import csv
import html
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import budget
from coaching.models import Coach, Coaching, SeanceCoaching
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    SeanceCoachingFactory,
    StructureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

S = Coaching.Statut
PARIS = ZoneInfo("Europe/Paris")
BUDGET = reverse("admin:coaching_coaching_budget")


def at(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def held(coaching, *moments):
    """Sessions of ``coaching`` held ("réalisée") at the given moments."""
    start = coaching.seances.count()
    for i, moment in enumerate(moments, start=start + 1):
        seance = SeanceCoachingFactory(coaching=coaching, numero=i)
        SeanceCoaching.objects.filter(pk=seance.pk).update(
            debut=moment, statut=SeanceCoaching.Statut.REALISEE
        )


def engagement(cadre, coach, statut, montant=None, debut=None, nb=6, cree_le=None):
    coaching = CoachingFactory(
        cadre=cadre,
        coach=coach,
        statut=statut,
        montant_devis=montant,
        date_debut=debut,
        nb_seances_prevues=nb,
    )
    if cree_le:
        Coaching.objects.filter(pk=coaching.pk).update(cree_le=cree_le)
    return coaching


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def case(m):
    """A constructed case for 2025.

    Ministry A (engagé 3 900,00 ; dépensé 2 150,00):
    - X (400 €/séance), en cours since 2025-03-01, quote 2 400: 2 sessions held in 2025
      (800), one on 1 January 2026 at 00:30 Paris time (31 December in UTC: not 2025),
      one planned (not held);
    - Y (no price per session), finished, no start date, recorded in 2025, quote 1 500
      for 6 sessions: 3 held in 2025 at 250 (750);
    - X, interrupted, quote 333 (not committed): 1 session held in 2025 (400);
    - Y, started 2024-11-04, quote 1 200 for 6 (committed in 2024): one session held in
      December 2024, one in January 2025 at 200;
    - an internal coach with a quote of 5 000 and a held session: not external;
    - an external coaching still to assign (no coach) with a quote: not committed.
    Ministry B: X, contracted in 2025, quote 7 777, one session held at 432,10 (Z).
    """
    x = CoachFactory(nom="Xavier", tarif_seance=Decimal("400.00"), capacite=10)
    y = CoachFactory(nom="Yvon", tarif_seance=None, capacite=10)
    z = CoachFactory(nom="Zoé", tarif_seance=Decimal("432.10"), capacite=10)
    internal = CoachFactory(
        type=Coach.Type.INTERNE,
        organisme="",
        structure=StructureFactory(nom="Autre"),
        tarif_seance=Decimal("100.00"),
    )
    a1 = CadreFactory(structure=m["a_srv"])
    a2 = CadreFactory(structure=m["a_dir"])
    a3 = CadreFactory(structure=m["a"])

    first = engagement(a1, x, S.EN_COURS, "2400.00", date(2025, 3, 1))
    held(first, at(2025, 3, 10), at(2025, 4, 10), at(2026, 1, 1, 0, 30))
    SeanceCoachingFactory(coaching=first, numero=10)  # planned, in a week

    second = engagement(a2, y, S.TERMINE, "1500.00", None, 6, cree_le=at(2025, 5, 5))
    held(second, at(2025, 6, 1), at(2025, 7, 1), at(2025, 8, 1))

    third = engagement(a3, x, S.INTERROMPU, "333.00", date(2025, 2, 1))
    held(third, at(2025, 2, 15))

    fourth = engagement(m["cadre_a"], y, S.TERMINE, "1200.00", date(2024, 11, 4), 6)
    held(fourth, at(2024, 12, 2), at(2025, 1, 6))

    inside = engagement(a1, internal, S.EN_COURS, "5000.00", date(2025, 1, 1))
    held(inside, at(2025, 1, 20))
    engagement(a2, None, S.A_AFFECTER, "999.00", date(2025, 1, 1))

    outside = engagement(m["cadre_b"], z, S.CONTRACTUALISE, "7777.00", date(2025, 9, 1))
    held(outside, at(2025, 9, 15))
    return {"first": first, "second": second, "outside": outside}


def rows_of(response):
    return [(r.structure, r.annee, r.engage, r.depense) for r in response.context["budget"].rows]


A_2025 = ("MA – Ministère A", 2025, Decimal("3900.00"), Decimal("2150.00"))
B_2025 = ("MB – Ministère B", 2025, Decimal("7777.00"), Decimal("432.10"))


def test_compute_on_the_constructed_case(m, case):
    result = budget.compute(Coaching.objects.all(), 2025)
    assert [(r.structure, r.annee, r.engage, r.depense) for r in result.rows] == [A_2025, B_2025]
    assert result.engage == Decimal("11677.00")
    assert result.depense == Decimal("2582.10")
    earlier = budget.compute(Coaching.objects.all(), 2024)
    assert [(r.structure, r.engage, r.depense) for r in earlier.rows] == [
        ("MA – Ministère A", Decimal("1200.00"), Decimal("200.00"))
    ]
    later = budget.compute(Coaching.objects.all(), 2026)
    assert [(r.structure, r.engage, r.depense) for r in later.rows] == [
        ("MA – Ministère A", Decimal("0.00"), Decimal("400.00"))
    ]


def test_delegue_sees_only_the_figures_of_their_perimeter(client, m, case):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2025})
    assert response.status_code == 200
    assert rows_of(response) == [A_2025]
    page = html.unescape(response.content.decode())
    assert "Ministère A" in page
    assert "Ministère B" not in page
    for amount in ("7777", "7 777", "7\xa0777", "7\u202f777", "432,10", "432.10"):
        assert amount not in page
    assert '<th scope="col">Engagé (€ TTC)</th>' in page
    assert "<caption>" in page
    assert '<th scope="row">Total</th>' in page


def test_delegue_b_and_the_administrator(client, m, case):
    client.force_login(m["delegue_b"])
    assert rows_of(client.get(BUDGET, {"annee": 2025})) == [B_2025]
    client.force_login(m["admin"])
    response = client.get(BUDGET, {"annee": 2025})
    assert rows_of(response) == [A_2025, B_2025]
    assert response.context["budget"].engage == Decimal("11677.00")


def test_delegue_of_a_direction_sees_its_part_only(client, m, case):
    from tests.factories import make_delegue

    client.force_login(make_delegue(m["a_dir"]))
    response = client.get(BUDGET, {"annee": 2025})
    # first and fourth (a_srv, under a_dir) and second (a_dir); not third (ministry level).
    assert rows_of(response) == [("MA – Ministère A", 2025, Decimal("3900.00"), Decimal("1750.00"))]


def test_year_defaults_to_the_current_one(client, m, case):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET)
    assert response.context["annee"] == timezone.localdate().year
    response = client.get(BUDGET, {"annee": "n'importe quoi"})
    assert response.context["annee"] == timezone.localdate().year


def test_budget_csv_export(client, m, case):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2025, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="budget-coaching-2025.csv"'
    body = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines == [
        ["Ministère", "Année", "Engagé (€ TTC)", "Dépensé (€ TTC)"],
        ["MA – Ministère A", "2025", "3900.00", "2150.00"],
        ["Total", "2025", "3900.00", "2150.00"],
    ]
    assert "7777" not in body and "Ministère B" not in body


def test_budget_xlsx_export(client, m, case):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2025, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="budget-coaching-2025.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Ministère", "Année", "Engagé (€ TTC)", "Dépensé (€ TTC)"]
    assert [v[0] for v in values[1:]] == ["MA – Ministère A", "Total"]
    assert [Decimal(str(v)) for v in values[1][1:]] == [2025, Decimal("3900"), Decimal("2150")]
    assert all(7777 not in row for row in values)


def test_budget_admin_sees_both_in_the_csv(client, m, case):
    client.force_login(m["admin"])
    body = client.get(BUDGET, {"annee": 2025, "format": "csv"}).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[1:] == [
        ["MA – Ministère A", "2025", "3900.00", "2150.00"],
        ["MB – Ministère B", "2025", "7777.00", "432.10"],
        ["Total", "2025", "11677.00", "2582.10"],
    ]


def test_empty_year(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2019})
    assert rows_of(response) == []
    assert "Aucun coaching externe engagé" in html.unescape(response.content.decode())


def test_budget_needs_the_admin(client, m):
    response = client.get(BUDGET)
    assert response.status_code == 302
    client.force_login(UserFactory())
    response = client.get(BUDGET, {"format": "csv"})
    assert response.status_code == 302 and "attachment" not in response.get(
        "Content-Disposition", ""
    )


def spread(n, ministry, coach):
    """``n`` external engagements in ``ministry``, each with two held sessions."""
    for _ in range(n):
        coaching = engagement(
            CadreFactory(structure=ministry), coach, S.EN_COURS, "1200.00", date(2025, 2, 3)
        )
        held(coaching, at(2025, 3, 3), at(2025, 4, 3))


@pytest.mark.parametrize("export", [None, "csv", "xlsx"])
def test_budget_queries_do_not_grow_with_coachings(client, m, export):
    coach = CoachFactory(tarif_seance=Decimal("300.00"), capacite=30)
    other = CoachFactory(tarif_seance=None, capacite=30)
    client.force_login(m["admin"])
    params = {"annee": 2025, **({"format": export} if export else {})}
    spread(2, m["a"], coach)
    spread(1, m["b"], other)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BUDGET, params)
        assert response.status_code == 200
        return len(queries)

    few = count()
    spread(14, m["a_srv"], coach)
    spread(13, m["b"], other)
    spread(3, StructureFactory(nom="Ministère C", sigle="MC"), coach)
    assert count() == few
    result = budget.compute(Coaching.objects.all(), 2025)
    assert len(result.rows) == 3
    assert result.engage == Decimal("1200.00") * 33
    assert result.depense == Decimal("300.00") * 2 * 19 + Decimal("200.00") * 2 * 14
