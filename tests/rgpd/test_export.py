"""Right of access and portability: a cadre downloads everything held about them from
the portal, as JSON and as a PDF summary; nobody else can."""

import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from accompagnement.models import Demande, Notification
from accompagnement.services import outbox
from coaching.models import NoteCoach
from codev.models import Apprentissage, PlanAction
from mentorat.models import NotePrivee, Rencontre
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    ImmersionFactory,
    MembreFactory,
    MentoratFactory,
    SeanceCoachingFactory,
    SeanceFactory,
    UserFactory,
    make_cadre_user,
    make_delegue,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PAGE, JSON_URL, PDF_URL = (
    "/espace/mes-donnees/",
    "/espace/mes-donnees/export.json",
    ("/espace/mes-donnees/synthese.pdf"),
)
COACH_NOTE = "Note du coach : hypothèse de travail"
OTHER_PROBLEM = "Problème exposé par un autre membre"


@pytest.fixture
def cadre():
    cadre = make_cadre_user(nom="Martin", prenom="Claire")
    Demande.objects.create(
        cadre=cadre, dispositif="coaching", contexte="prise_de_poste", motivation="Ma motivation"
    )
    coaching = CoachingFactory(
        cadre=cadre, coach=CoachFactory(user=UserFactory()), statut="en_cours", objectifs="Oser"
    )
    SeanceCoachingFactory(coaching=coaching, numero=1)
    NoteCoach.objects.create(coaching=coaching, auteur=coaching.coach.user, texte=COACH_NOTE)
    mentorat = MentoratFactory(mentore=cadre, statut="en_cours", objectifs="Réseau")
    rencontre = Rencontre.objects.create(mentorat=mentorat, debut=timezone.now())
    NotePrivee.objects.create(rencontre=rencontre, auteur=cadre.user, texte="Ma note privée")
    NotePrivee.objects.create(rencontre=rencontre, auteur=UserFactory(), texte="Note du mentor")
    membre = MembreFactory(cadre=cadre)
    other = MembreFactory(groupe=membre.groupe)
    mine = SeanceFactory(groupe=membre.groupe, client=membre, numero=1)
    theirs = SeanceFactory(groupe=membre.groupe, client=other, numero=2, probleme=OTHER_PROBLEM)
    PlanAction.objects.create(seance=mine, membre=membre, actions="Mon plan d'action")
    Apprentissage.objects.create(seance=theirs, membre=membre, texte="Mon apprentissage")
    ImmersionFactory(cadre=cadre, jours=[timezone.localdate() + timedelta(days=100)])
    outbox.notify("test.rgpd", cadre, user=cadre.user)
    return cadre


def download(client, user):
    client.force_login(user)
    response = client.get(JSON_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def test_the_json_holds_everything_about_the_cadre(client, cadre):
    data = download(client, cadre.user)
    text = json.dumps(data, ensure_ascii=False)
    assert data["profil"]["nom"] == "Martin"
    assert data["compte"]["email"] == cadre.user.email
    assert data["demandes"][0]["motivation"] == "Ma motivation"
    coaching = data["dispositifs"]["coaching"][0]
    assert coaching["objectifs"] == "Oser" and len(coaching["seances"]) == 1
    mentorat = data["dispositifs"]["mentorat"][0]["relations"][0]
    assert mentorat["rencontres"][0]["mes_notes_privees"] == ["Ma note privée"]
    codev = data["dispositifs"]["codev"][0]
    assert [p["actions"] for p in codev["mes_plans_d_action"]] == ["Mon plan d'action"]
    assert [a["texte"] for a in codev["mes_apprentissages"]] == ["Mon apprentissage"]
    assert [s["client"] for s in codev["seances"]] == [True, False]
    assert len(data["dispositifs"]["immersion"][0]["jours"]) == 1
    assert "test.rgpd" in [n["type"] for n in data["notifications"]]
    assert any(t["objet"] == str(cadre) for t in data["journal_d_audit"])
    # What others wrote stays theirs.
    for foreign in (COACH_NOTE, "Note du mentor", OTHER_PROBLEM):
        assert foreign not in text
    assert "nonce" not in text and "password" not in text


def test_the_pdf_summary_names_the_cadre_and_counts_their_programmes(client, cadre):
    client.force_login(cadre.user)
    response = client.get(PDF_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Synthèse des données personnelles" in text
    assert "Claire MARTIN" in text
    assert "Coaching : 1 élément" in text
    assert "Codéveloppement professionnel : 1 élément" in text
    assert COACH_NOTE not in text


def test_the_page_links_both_downloads(client, cadre):
    client.force_login(cadre.user)
    page = client.get(PAGE).content.decode()
    assert JSON_URL in page and PDF_URL in page


@pytest.mark.parametrize("url", [PAGE, JSON_URL, PDF_URL])
def test_anonymous_users_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/login/")


@pytest.mark.parametrize("url", [PAGE, JSON_URL, PDF_URL])
def test_a_user_without_a_cadre_profile_gets_404(client, two_ministries, url):
    client.force_login(two_ministries["delegue_a"])
    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_a_cadre_gets_their_own_data_only(client, cadre):
    other = make_cadre_user(nom="Durand", prenom="Paul")
    data = download(client, other.user)
    assert data["profil"]["nom"] == "Durand"
    assert data["demandes"] == [] and data["notifications"] == []
    assert all(v == [] for v in data["dispositifs"].values())
    # What only the first cadre's file holds ("Martin" is also a common random name).
    dump = json.dumps(data, ensure_ascii=False)
    for trace in (cadre.email, cadre.user.email, "Ma motivation", "Oser", "Réseau"):
        assert trace not in dump


def test_the_export_makes_the_same_number_of_queries_for_few_and_many_programmes(client, cadre):
    client.force_login(cadre.user)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(JSON_URL).status_code == 200
        return len(ctx)

    few = count()
    for _ in range(5):
        coaching = CoachingFactory(cadre=cadre, coach=CoachFactory(), statut="en_cours")
        SeanceCoachingFactory(coaching=coaching)
        ImmersionFactory(cadre=cadre, jours=[timezone.localdate() + timedelta(days=150)])
        Demande.objects.create(cadre=cadre, dispositif="codev", contexte="vivier", motivation="y")
        MembreFactory(cadre=cadre)
    assert count() == few


def test_notifications_of_the_outbox_are_listed_with_their_state(client, cadre):
    Notification.objects.filter(recipient=cadre.user, kind="test.rgpd").update(
        statut=Notification.Statut.ENVOYEE, sent_at=timezone.now()
    )
    data = download(client, cadre.user)
    sent = [n for n in data["notifications"] if n["type"] == "test.rgpd"]
    assert sent[0]["statut"] == "Envoyée" and sent[0]["envoyee_le"]


def test_a_delegue_cannot_reach_a_cadres_export_by_any_address(client, cadre):
    client.force_login(make_delegue(cadre.structure))
    assert client.get(f"{JSON_URL}?cadre={cadre.pk}").status_code == 404


def test_the_personal_data_page_states_the_processing(client, settings):
    settings.RGPD_RETENTION_YEARS = 7
    settings.RGPD_DPO_EMAIL = "dpd@example.gouv.fr"
    page = client.get("/donnees-personnelles/").content.decode()
    for said in (
        "Responsable du traitement",
        "article 6, paragraphe 1, point e",
        "7 ans après sa fin",
        "référentiel de la CNIL",
        "Journal des consultations et des modifications",
        'href="/espace/mes-donnees/"',
        "mailto:dpd@example.gouv.fr",
    ):
        assert said in page, said
    # Linked from the footer of every page.
    assert 'href="/donnees-personnelles/"' in client.get("/compte/login/").content.decode()
