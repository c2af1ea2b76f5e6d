"""A mentor's activity record for the annual review: relations, meetings held and hours
per year, as a PDF and a CSV (``;`` + BOM), downloaded by the mentor from the portal and
by a délégué for a mentor of their perimeter (relations of their perimeter only).
Nobody else gets one; queries stay constant."""

import io
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accompagnement.models import Session
from cadres.models import Role
from cadres.services import grant_role
from mentorat import activite
from mentorat.models import Mentorat, Rencontre
from tests.exports import csv_rows
from tests.factories import (
    CadreFactory,
    MentoratFactory,
    MentorFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Mentorat.Statut
R = Session.Statut
# Two years wholly past, whatever the day the tests run.
Y2 = timezone.localdate().year - 2
Y1 = timezone.localdate().year - 1
PDF = reverse("mentorat:activite_pdf")
CSV = reverse("mentorat:activite_csv")


def held(mentorat, day, minutes, statut=R.REALISEE):
    debut = timezone.make_aware(datetime.combine(day, time(10, 0)))
    return Rencontre.objects.create(mentorat=mentorat, debut=debut, duree=minutes, statut=statut)


def pdf_text(response):
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("’", "'").split())


def admin_url(mentor, fmt):
    return reverse("admin:mentorat_mentor_activite", args=[mentor.pk, fmt])


@pytest.fixture
def record(two_ministries):
    """A mentor of ministry A (with an account) and their relations:
    - Alice (ministry A), ended in Y2: two meetings held (1 h + 1 h 30), one cancelled;
    - Bruno (ministry B), Oct. Y2 to June Y1: 45 min in Y2, 1 h and 30 min in Y1;
    - a declined proposal and a pending one: no activity.
    """
    user = UserFactory()
    grant_role(user, Role.Kind.MENTOR)
    mentor = MentorFactory(
        user=user, structure=two_ministries["a_dir"], nom="Mentor", prenom="Marie"
    )
    alice = MentoratFactory(
        mentor=mentor,
        mentore=make_cadre_user(structure=two_ministries["a_srv"], nom="Alice", prenom="Anne"),
        statut=S.TERMINE,
        date_debut=date(Y2, 3, 1),
        date_fin_prevue=date(Y2, 12, 1),
        date_fin=date(Y2, 11, 30),
    )
    held(alice, date(Y2, 3, 10), 60)
    held(alice, date(Y2, 5, 10), 90)
    held(alice, date(Y2, 6, 10), 60, statut=R.ANNULEE)
    bruno = MentoratFactory(
        mentor=mentor,
        mentore=make_cadre_user(structure=two_ministries["b"], nom="Bruno", prenom="Bob"),
        statut=S.TERMINE,
        date_debut=date(Y2, 10, 1),
        date_fin_prevue=date(Y1, 6, 1),
        date_fin=date(Y1, 6, 1),
    )
    held(bruno, date(Y2, 11, 3), 45)
    held(bruno, date(Y1, 1, 12), 60)
    held(bruno, date(Y1, 2, 12), 30)
    MentoratFactory(mentor=mentor, mentore=CadreFactory(nom="Decline"), statut=S.DECLINE)
    MentoratFactory(mentor=mentor, mentore=CadreFactory(nom="Pending"), statut=S.PROPOSE)
    # Another mentor's relation: never in this record.
    other = MentoratFactory(
        mentore=CadreFactory(nom="Autre"),
        statut=S.TERMINE,
        date_debut=date(Y2, 1, 1),
        date_fin_prevue=date(Y2, 9, 1),
        date_fin=date(Y2, 9, 1),
    )
    held(other, date(Y2, 2, 1), 120)
    return {"mentor": mentor, "alice": alice, "bruno": bruno, **two_ministries}


def test_hours_are_those_of_meetings_held_per_year(record):
    releve = activite.build(record["mentor"], Mentorat.objects.all())
    assert [y.annee for y in releve.years] == [Y1, Y2]
    y1, y2 = releve.years
    assert [(e.mentorat, e.dates, e.minutes) for e in y2.relations] == [
        (record["alice"], [date(Y2, 3, 10), date(Y2, 5, 10)], 150),
        (record["bruno"], [date(Y2, 11, 3)], 45),
    ]
    assert (y2.rencontres, y2.minutes, y2.heures) == (3, 195, "3 h 15")
    assert (y1.rencontres, y1.minutes, y1.heures) == (2, 90, "1 h 30")
    assert (releve.rencontres, releve.heures) == (5, "4 h 45")
    only = activite.build(record["mentor"], Mentorat.objects.all(), annee=Y1)
    assert [y.annee for y in only.years] == [Y1]


def test_the_mentor_downloads_the_csv(client, record):
    client.force_login(record["mentor"].user)
    response = client.get(CSV, {"annee": Y2})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"activite-mentorat-marie-mentor-{Y2}.csv" in response["Content-Disposition"]
    header, *rows = csv_rows(response)  # BOM and ";" checked there
    assert header == activite.CSV_HEADER
    assert rows == [
        [
            str(Y2),
            str(record["alice"].mentore),
            "Prise de poste",
            f"01/03/{Y2}",
            f"30/11/{Y2}",
            "Terminé",
            "2",
            "2,50",
            f"10/03/{Y2}, 10/05/{Y2}",
        ],
        [
            str(Y2),
            str(record["bruno"].mentore),
            "Prise de poste",
            f"01/10/{Y2}",
            f"01/06/{Y1}",
            "Terminé",
            "1",
            "0,75",
            f"03/11/{Y2}",
        ],
    ]
    # Every year: the latest first, nothing of the declined, pending or others' relations.
    rows = csv_rows(client.get(CSV))[1:]
    assert [(r[0], r[7]) for r in rows] == [(str(Y1), "1,50"), (str(Y2), "2,50"), (str(Y2), "0,75")]
    text = " ".join(" ".join(r) for r in rows)
    assert "DECLINE" not in text and "PENDING" not in text and "AUTRE" not in text


def test_the_mentor_downloads_the_pdf(client, record):
    client.force_login(record["mentor"].user)
    response = client.get(PDF, {"annee": Y2})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response)
    assert f"Relevé d'activité de mentorat – année {Y2}" in text
    assert "Marie MENTOR" in text
    assert f"{Y2} 2 3 3 h 15" in text  # year, relations, meetings, hours
    assert f"du 01/03/{Y2} au 30/11/{Y2}" in text and "2 h 30" in text and "45" in text
    assert f"10/03/{Y2}, 10/05/{Y2}" in text
    assert "entretien professionnel annuel" in text
    assert "limité aux mentorats du périmètre" not in text
    assert str(record["bruno"].mentore) in text
    assert f"{Y1} 1 2 1 h 30" not in text  # one year asked, one year shown


def test_the_portal_offers_the_record_by_year(client, record):
    client.force_login(record["mentor"].user)
    page = client.get(reverse("mentorat:list")).content.decode()
    assert "Mon activité de mentor" in page
    assert f"{PDF}?annee={Y1}" in page and f"{CSV}?annee={Y2}" in page
    # A mentee has no such section.
    client.force_login(record["alice"].mentore.user)
    assert "Mon activité de mentor" not in client.get(reverse("mentorat:list")).content.decode()


def test_nobody_else_gets_a_record(client, record):
    for url in (PDF, CSV):
        response = client.get(url)
        assert response.status_code == 302  # sign in first
        client.force_login(record["alice"].mentore.user)  # a mentee, not a mentor
        assert client.get(url).status_code == 404
        client.logout()
    client.force_login(record["mentor"].user)
    for bad in ("deux-mille", "1850", "99999"):
        response = client.get(CSV, {"annee": bad})
        assert response.status_code == 400
        assert "Année invalide" in response.content.decode()


def test_a_delegue_exports_a_mentor_of_their_perimeter(client, record):
    mentor = record["mentor"]
    client.force_login(record["delegue_a"])
    page = client.get(reverse("admin:mentorat_mentor_change", args=[mentor.pk])).content.decode()
    assert admin_url(mentor, "pdf") in page and admin_url(mentor, "csv") in page
    rows = csv_rows(client.get(admin_url(mentor, "csv")))[1:]
    # Only the relations of ministry A: Bruno is ministry B's.
    assert {r[1] for r in rows} == {str(record["alice"].mentore)}
    text = pdf_text(client.get(admin_url(mentor, "pdf"), {"annee": Y2}))
    assert "limité aux mentorats du périmètre" in text
    assert str(record["bruno"].mentore) not in text

    # The national administrator sees all of it.
    client.force_login(record["admin"])
    rows = csv_rows(client.get(admin_url(mentor, "csv")))[1:]
    assert len(rows) == 3


def test_another_perimeter_gets_404(client, record):
    client.force_login(record["delegue_b"])
    for fmt in ("pdf", "csv"):
        assert client.get(admin_url(record["mentor"], fmt)).status_code == 404
    client.force_login(record["delegue_a"])
    assert client.get(admin_url(record["mentor"], "xlsx")).status_code == 404
    # A mentor's own account has no admin.
    client.force_login(record["mentor"].user)
    assert client.get(admin_url(record["mentor"], "csv")).status_code == 302


def test_record_queries_do_not_grow(client, record):
    mentor = record["mentor"]
    client.force_login(mentor.user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CSV).status_code == 200
        return len(queries)

    few = count()
    for month in range(1, 11):
        relation = MentoratFactory(
            mentor=mentor,
            mentore=CadreFactory(),
            statut=S.EN_COURS,
            date_debut=date(Y1, month, 1),
            date_fin_prevue=date(Y1, month, 1) + timedelta(days=270),
        )
        held(relation, date(Y1, month, 2), 60)
        held(relation, date(Y1, month, 20), 60)
    assert count() == few
    assert len(csv_rows(client.get(CSV, {"annee": Y1}))) == 1 + 1 + 10
