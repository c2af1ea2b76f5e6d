"""External spending: committed and spent amounts by ministry, scheme and year, within
the délégué's perimeter, on the admin page and in the CSV/XLSX exports: external
coaching and co-development groups run by an external animateur "sur devis" (issue 14,
point 4), side by side."""

import csv
import html
import io
from datetime import date, datetime, timedelta
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
from codev.models import Seance
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    GroupeFactory,
    SeanceCoachingFactory,
    SeanceFactory,
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
    return [
        (r.structure, r.annee, r.dispositif, r.engage, r.depense)
        for r in response.context["budget"].rows
    ]


def rows(result):
    return [(r.structure, r.annee, r.dispositif, r.engage, r.depense) for r in result.rows]


A_2025 = ("MA – Ministère A", 2025, "Coaching", Decimal("3900.00"), Decimal("2150.00"))
B_2025 = ("MB – Ministère B", 2025, "Coaching", Decimal("7777.00"), Decimal("432.10"))


def test_compute_on_the_constructed_case(m, case):
    result = budget.compute(m["admin"], 2025)
    assert rows(result) == [A_2025, B_2025]
    assert result.engage == Decimal("11677.00")
    assert result.depense == Decimal("2582.10")
    earlier = budget.compute(m["admin"], 2024)
    assert [(r.structure, r.engage, r.depense) for r in earlier.rows] == [
        ("MA – Ministère A", Decimal("1200.00"), Decimal("200.00"))
    ]
    later = budget.compute(m["admin"], 2026)
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
    assert '<th scope="col">Dispositif</th>' in page
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
    assert rows_of(response) == [
        ("MA – Ministère A", 2025, "Coaching", Decimal("3900.00"), Decimal("1750.00"))
    ]


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
    assert response["Content-Disposition"] == 'attachment; filename="depenses-externes-2025.csv"'
    body = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines == [
        ["Ministère", "Année", "Dispositif", "Engagé (€ TTC)", "Dépensé (€ TTC)"],
        ["MA – Ministère A", "2025", "Coaching", "3900.00", "2150.00"],
        ["Total", "2025", "Coaching", "3900.00", "2150.00"],
        ["Total", "2025", "Tous dispositifs", "3900.00", "2150.00"],
    ]
    assert "7777" not in body and "Ministère B" not in body


def test_budget_xlsx_export(client, m, case):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2025, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="depenses-externes-2025.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Ministère", "Année", "Dispositif", "Engagé (€ TTC)", "Dépensé (€ TTC)"]
    assert [v[0] for v in values[1:]] == ["MA – Ministère A", "Total", "Total"]
    assert values[1][2] == "Coaching"
    assert [Decimal(str(v)) for v in (values[1][1], *values[1][3:])] == [
        2025,
        Decimal("3900"),
        Decimal("2150"),
    ]
    assert all(7777 not in row for row in values)


def test_budget_admin_sees_both_in_the_csv(client, m, case):
    client.force_login(m["admin"])
    body = client.get(BUDGET, {"annee": 2025, "format": "csv"}).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[1:] == [
        ["MA – Ministère A", "2025", "Coaching", "3900.00", "2150.00"],
        ["MB – Ministère B", "2025", "Coaching", "7777.00", "432.10"],
        ["Total", "2025", "Coaching", "11677.00", "2582.10"],
        ["Total", "2025", "Tous dispositifs", "11677.00", "2582.10"],
    ]


def test_empty_year(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2019})
    assert rows_of(response) == []
    assert "Aucune dépense externe engagée" in html.unescape(response.content.decode())


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
    result = budget.compute(m["admin"], 2025)
    assert len(result.rows) == 3
    assert result.engage == Decimal("1200.00") * 33
    assert result.depense == Decimal("300.00") * 2 * 19 + Decimal("200.00") * 2 * 14


# --- Co-development groups run by an external animateur, beside coaching --------------


def external_group(structure, montant, debut, seances, animation="externe"):
    """A group "sur devis" whose séances are (moment, status) pairs."""
    groupe = GroupeFactory(
        structure=structure,
        animation=animation,
        prestataire="Cabinet Codev & Co" if animation == "externe" else "",
        montant_devis=Decimal(montant) if montant else None,
        bon_de_commande="BC-2025-0042" if animation == "externe" else "",
        date_debut=debut,
        date_fin=debut + timedelta(days=300),
    )
    for numero, (moment, statut) in enumerate(seances, start=1):
        seance = SeanceFactory(groupe=groupe, numero=numero)
        Seance.objects.filter(pk=seance.pk).update(debut=moment, statut=statut)
    return groupe


R, P, X = Seance.Statut.REALISEE, Seance.Statut.PLANIFIEE, Seance.Statut.ANNULEE


@pytest.fixture
def groups(m):
    """Ministry A: an external group of its direction, quote 4 800 for a cycle starting
    2025-02-03, six séances of which one cancelled (960 each): three held in 2025
    (2 880), one in 2026, one planned; an internal group with held séances (no cost).
    Ministry B: an external group started in 2024 (quote 3 000, four séances at 750),
    two held in 2025 (1 500)."""
    external_group(
        m["a_dir"],
        "4800.00",
        date(2025, 2, 3),
        [
            (at(2025, 2, 3), R),
            (at(2025, 3, 3), R),
            (at(2025, 4, 7), X),
            (at(2025, 5, 5), R),
            (at(2026, 1, 5), R),
            (at(2026, 2, 2), P),
        ],
    )
    external_group(m["a"], None, date(2025, 1, 6), [(at(2025, 1, 6), R)], animation="interne")
    external_group(
        m["b"],
        "3000.00",
        date(2024, 12, 2),
        [(at(2024, 12, 2), R), (at(2025, 1, 6), R), (at(2025, 2, 3), R), (at(2025, 3, 3), P)],
    )


CODEV = "Codéveloppement professionnel"
A_CODEV = ("MA – Ministère A", 2025, CODEV, Decimal("4800.00"), Decimal("2880.00"))
B_CODEV = ("MB – Ministère B", 2025, CODEV, Decimal("0.00"), Decimal("1500.00"))


def test_codev_rows_beside_coaching_by_ministry_and_year(m, case, groups):
    result = budget.compute(m["admin"], 2025)
    assert rows(result) == [A_2025, A_CODEV, B_2025, B_CODEV]
    assert result.par_dispositif == [
        ("Coaching", Decimal("11677.00"), Decimal("2582.10")),
        (CODEV, Decimal("4800.00"), Decimal("4380.00")),
    ]
    assert result.engage == Decimal("16477.00") and result.depense == Decimal("6962.10")
    assert [r[2:] for r in rows(budget.compute(m["admin"], 2024)) if r[2] == CODEV] == [
        (CODEV, Decimal("3000.00"), Decimal("750.00"))
    ]
    assert [r[2:] for r in rows(budget.compute(m["admin"], 2026)) if r[2] == CODEV] == [
        (CODEV, Decimal("0.00"), Decimal("960.00"))
    ]


def test_codev_spending_follows_the_same_perimeter(client, m, case, groups):
    from tests.factories import make_delegue

    client.force_login(m["delegue_a"])
    response = client.get(BUDGET, {"annee": 2025})
    assert rows_of(response) == [A_2025, A_CODEV]
    page = html.unescape(response.content.decode())
    assert CODEV in page and "1500" not in page and "1 500" not in page
    client.force_login(m["delegue_b"])
    assert rows_of(client.get(BUDGET, {"annee": 2025})) == [B_2025, B_CODEV]
    # A délégué of the service below the direction: neither the direction's group nor
    # its coachings outside the service.
    client.force_login(make_delegue(m["a_srv"]))
    assert [r[2] for r in rows_of(client.get(BUDGET, {"annee": 2025}))] == ["Coaching"]


def test_codev_rows_in_the_exports(client, m, case, groups):
    client.force_login(m["delegue_a"])
    body = client.get(BUDGET, {"annee": 2025, "format": "csv"}).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[1:] == [
        ["MA – Ministère A", "2025", "Coaching", "3900.00", "2150.00"],
        ["MA – Ministère A", "2025", CODEV, "4800.00", "2880.00"],
        ["Total", "2025", "Coaching", "3900.00", "2150.00"],
        ["Total", "2025", CODEV, "4800.00", "2880.00"],
        ["Total", "2025", "Tous dispositifs", "8700.00", "5030.00"],
    ]
    response = client.get(BUDGET, {"annee": 2025, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[2][:3] == ["MA – Ministère A", 2025, CODEV]
    assert [Decimal(str(v)) for v in values[2][3:]] == [Decimal("4800"), Decimal("2880")]


def test_codev_alone_in_a_year_without_coaching(client, m, groups):
    client.force_login(m["admin"])
    assert rows_of(client.get(BUDGET, {"annee": 2025})) == [A_CODEV, B_CODEV]


def spread_groups(n, structure):
    for _ in range(n):
        external_group(
            structure,
            "2000.00",
            date(2025, 3, 3),
            [(at(2025, 3, 3), R), (at(2025, 4, 7), R), (at(2025, 5, 5), X), (at(2025, 6, 2), P)],
        )


@pytest.mark.parametrize("export", [None, "csv"])
def test_queries_do_not_grow_with_coachings_and_groups(client, m, export):
    coach = CoachFactory(tarif_seance=Decimal("300.00"), capacite=30)
    client.force_login(m["admin"])
    params = {"annee": 2025, **({"format": export} if export else {})}
    spread(2, m["a"], coach)
    spread_groups(1, m["a_dir"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BUDGET, params)
        assert response.status_code == 200
        return len(queries)

    few = count()
    spread(6, m["b"], coach)
    spread_groups(8, m["a_srv"])
    spread_groups(7, m["b"])
    assert count() == few
    result = budget.compute(m["admin"], 2025)
    assert result.par_dispositif[1] == (
        CODEV,
        Decimal("2000.00") * 16,
        (Decimal("2000.00") / 3 * 2 * 16).quantize(Decimal("0.01")),
    )
