"""The cadre's file (issue 12, point 1): one page in the admin (délégués of the
perimeter, administrators) and one in the portal (the cadre about themselves) with the
whole journey in time order, in a constant number of queries, and never any
confidential content, whoever reads it."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande, Evaluation
from cadres.models import User, Vivier
from coaching.models import NoteCoach
from codev.models import Apprentissage, PlanAction, Presence
from mentorat.models import NotePrivee
from parcours.models import DocumentParcours
from rgpd.models import Trace
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    GroupeFactory,
    ImmersionFactory,
    MembreFactory,
    MentoratFactory,
    MentorFactory,
    SeanceCoachingFactory,
    SeanceFactory,
    UserFactory,
    make_cadre_user,
    with_totp,
)
from tests.immersion.builders import working_days
from tests.parcours.builders import MARKERS, SECRET, history

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PORTAL = "/espace/mon-dossier/"


def admin_url(cadre):
    return reverse("admin:cadres_cadre_dossier", args=[cadre.pk])


def timeline(html):
    """The text of the timeline's items, in the page's order."""
    block = re.search(r'<ol class="dossier-etapes"[^>]*>(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", block, re.S)
    return [unescape(" ".join(re.sub(r"<[^>]+>", " ", i).split())) for i in items]


def _ago(days):
    return timezone.now() - timedelta(days=days)


def _day(days_ago):
    return timezone.localdate() - timedelta(days=days_ago)


def _session(factory, statut, days_ago, **fields):
    return factory(debut=_ago(days_ago), statut=statut, **fields)


@pytest.fixture
def journey(two_ministries):
    """A cadre of ministry A with one of everything, at known dates."""
    m = two_ministries
    cadre = make_cadre_user(structure=m["a_srv"], nom="Lefebvre", prenom="Claire")
    cadre.viviers.add(Vivier.objects.create(nom="Vivier des futurs directeurs"))

    Demande.objects.create(
        cadre=cadre,
        dispositif="coaching",
        contexte="prise_de_poste",
        motivation="Prendre un nouveau poste.",
        recue_le=_ago(200),
        statut="acceptee",
        decidee_le=_ago(190),
    )
    Demande.objects.create(
        cadre=cadre,
        dispositif="mentorat",
        contexte="prise_de_poste",
        motivation="Être accompagnée par un pair.",
        recue_le=_ago(3),
    )

    coach = CoachFactory(prenom="Zoé", nom="Martin")
    coaching = CoachingFactory(
        cadre=cadre,
        coach=coach,
        statut="en_cours",
        date_debut=_day(180),
        nb_seances_prevues=6,
    )
    for numero, (statut, days) in enumerate(
        [("realisee", 170), ("realisee", 150), ("annulee", 140), ("planifiee", -10)], start=1
    ):
        _session(SeanceCoachingFactory, statut, days, coaching=coaching, numero=numero)
    NoteCoach.objects.create(coaching=coaching, auteur=cadre.user, texte=MARKERS["note_coach"])

    mentor_cadre = make_cadre_user(structure=m["b"], prenom="Paul", nom="Durand")
    mentor = MentorFactory(cadre=mentor_cadre, user=mentor_cadre.user, prenom="Paul", nom="Durand")
    mentorat = MentoratFactory(
        mentor=mentor, mentore=cadre, statut="en_cours", date_debut=_day(150)
    )
    from mentorat.models import Rencontre

    rencontres = [
        Rencontre.objects.create(mentorat=mentorat, debut=_ago(days), statut=statut)
        for statut, days in [("realisee", 140), ("planifiee", -5), ("planifiee", -40)]
    ]
    NotePrivee.objects.create(
        rencontre=rencontres[0], auteur=mentor_cadre.user, texte=MARKERS["note_privee"]
    )
    NotePrivee.objects.create(
        rencontre=rencontres[0], auteur=cadre.user, texte=MARKERS["note_privee"] + "-mentore"
    )

    groupe = GroupeFactory(
        nom="Groupe Horizon",
        structure=m["a"],
        date_debut=_day(120),
        date_fin=_day(-120),
    )
    membre = MembreFactory(groupe=groupe, cadre=cadre, date_entree=_day(120))
    seances = [
        _session(
            SeanceFactory,
            statut,
            days,
            groupe=groupe,
            numero=numero,
            client=membre,
            probleme=MARKERS["probleme"],
            contrat=MARKERS["contrat"],
        )
        for numero, (statut, days) in enumerate(
            [
                ("realisee", 110),
                ("realisee", 90),
                ("realisee", 70),
                ("annulee", 50),
                ("planifiee", -10),
                ("planifiee", -30),
            ],
            start=1,
        )
    ]
    for seance, present in zip(seances[:3], [True, True, False], strict=True):
        Presence.objects.create(seance=seance, membre=membre, present=present)
    PlanAction.objects.create(
        seance=seances[0], membre=membre, actions=MARKERS["plan_action"], suivi=MARKERS["suivi"]
    )
    Apprentissage.objects.create(seance=seances[0], membre=membre, texte=MARKERS["apprentissage"])

    ImmersionFactory(
        cadre=cadre,
        structure_accueil="Préfecture de la Gironde",
        statut="terminee",
        recue_le=_day(100),
        decidee_le=_ago(95),
        jours=working_days(_day(60), 3),
    )

    Evaluation.objects.create(
        dispositif="coaching",
        programme_type=ContentType.objects.get_for_model(coaching),
        programme_id=coaching.pk,
        cadre=cadre,
        participant=cadre.user,
        satisfaction=2,
        objectifs_atteints="non",
        commentaire=MARKERS["evaluation"],
        demandee_le=_ago(12),
        remplie_le=_ago(10),
    )
    DocumentParcours.objects.create(
        cadre=cadre, nature="bilan", date=_day(30), reference="GED-BILAN-2026"
    )
    DocumentParcours.objects.create(
        cadre=cadre,
        nature="plan",
        date=_day(5),
        nom_fichier="plan-individuel.pdf",
        type_fichier="application/pdf",
        contenu=b"%PDF-1.4 plan\n%%EOF",
        taille=19,
    )
    return {**m, "cadre": cadre, "mentor_cadre": mentor_cadre, "groupe": groupe}


def _superuser():
    return with_totp(User.objects.create_superuser("racine@example.gouv.fr", "x"))


# --- Content ---------------------------------------------------------------------------


def test_the_portal_file_shows_the_journey_in_time_order(client, journey):
    client.force_login(journey["cadre"].user)
    response = client.get(PORTAL)
    assert response.status_code == 200
    assert "parcours/partials/dossier.html" in [t.name for t in response.templates]
    steps = timeline(response.content.decode())
    expected_order = [
        "Demande de coaching (prise de poste)",
        "Décision sur la demande de coaching : acceptée",
        "Début du coaching avec Zoé MARTIN",
        "Début : Mentorat avec Paul DURAND (mentor)",
        "Entrée dans le Groupe « Groupe Horizon »",
        "Demande d'immersion : Immersion – Préfecture de la Gironde",
        "Immersion – Préfecture de la Gironde : 3 jour(s)",
        "Bilan de parcours professionnel (art. 7)",
        "Évaluation de fin d'accompagnement (coaching) remplie",
        "Plan individuel de développement des compétences (art. 8)",
        "Demande de mentorat (prise de poste)",
    ]
    positions = []
    for label in expected_order:
        found = [i for i, step in enumerate(steps) if label in step]
        assert found, f"{label!r} not in {steps}"
        positions.append(found[0])
    assert positions == sorted(positions), steps
    decision = next(s for s in steps if "Décision sur la demande de coaching" in s)
    assert "en 10 jour(s)" in decision
    immersion = next(s for s in steps if s.endswith("5 jour(s) après la demande)"))
    assert "Demande d'immersion" in immersion


def test_the_file_shows_statuses_counts_days_pools_and_documents(client, journey):
    client.force_login(journey["cadre"].user)
    html = " ".join(client.get(PORTAL).content.decode().split())
    # Coaching: 2 held, 1 planned, 1 cancelled; allowance 3 used of 6.
    assert re.search(
        r"Coaching avec Zoé MARTIN</th> <td>En cours</td> <td>[^<]*</td> "
        r"<td>2</td> <td>1</td> <td>1</td> <td>Forfait de séances : 3 utilisée\(s\) sur 6, "
        r"3 restante\(s\)</td>",
        html,
    )
    # Mentoring: the mentor's name and the status, 1 held, 2 planned.
    assert re.search(
        r"Mentorat avec Paul DURAND \(mentor\)</th> <td>En cours</td> <td>[^<]*</td> "
        r"<td>1</td> <td>2</td> <td>0</td>",
        html,
    )
    # Co-development: the group, its status, 3 held, 2 planned, 1 cancelled; attended 2.
    assert re.search(
        r"Groupe « Groupe Horizon »</th> <td>En cours</td> <td>[^<]*</td> "
        r"<td>3</td> <td>2</td> <td>1</td> <td>Présences : 2 séance\(s\)</td>",
        html,
    )
    # Immersion: 3 days used in the 3-year window, 17 left of 20.
    assert "Jours utilisés ou prévus sur la période de 3 ans en cours : <strong>3</strong>" in html
    assert "Jours restants sur le plafond de 20 : <strong>17</strong>" in html
    assert re.search(r"Immersion – Préfecture de la Gironde</th> <td>Terminée</td>", html)
    # Requests with their delay; pools; documents.
    assert re.search(r"<td>Acceptée</td> <td>[0-9/]+</td> <td>10</td>", html)
    assert "Vivier des futurs directeurs" in html
    assert "GED-BILAN-2026" in html
    assert (
        reverse(
            "parcours:document", args=[journey["cadre"].documents_parcours.get(nature="plan").pk]
        )
        in html
    )


def test_the_admin_file_shows_the_same_body(client, journey):
    client.force_login(journey["delegue_a"])
    response = client.get(admin_url(journey["cadre"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mentorat avec Paul DURAND (mentor)" in html
    assert "Groupe « Groupe Horizon »" in html
    assert "Ajouter un document" in html
    assert "parcours/partials/dossier.html" in [t.name for t in response.templates]
    document = journey["cadre"].documents_parcours.get(nature="plan")
    assert (
        reverse("admin:cadres_cadre_dossier_document", args=[journey["cadre"].pk, document.pk])
        in html
    )


def test_the_mentor_sees_the_relation_as_mentor_in_their_own_file(client, journey):
    client.force_login(journey["mentor_cadre"].user)
    html = client.get(PORTAL).content.decode()
    assert "Mentorat de Claire LEFEBVRE (en tant que mentor)" in html


def test_the_cadre_change_page_and_list_link_the_file(client, journey):
    client.force_login(journey["delegue_a"])
    url = admin_url(journey["cadre"])
    change = client.get(reverse("admin:cadres_cadre_change", args=[journey["cadre"].pk]))
    assert url in change.content.decode()
    assert url in client.get(reverse("admin:cadres_cadre_changelist")).content.decode()


def test_the_portal_home_links_the_file(client, journey):
    client.force_login(journey["cadre"].user)
    assert PORTAL in client.get(reverse("portal:home")).content.decode()


def test_opening_a_file_in_the_admin_is_recorded(client, journey):
    client.force_login(journey["delegue_a"])
    client.get(admin_url(journey["cadre"]))
    entry = Trace.objects.get(action=Trace.Action.ACCESS, cadre=journey["cadre"])
    assert entry.actor == journey["delegue_a"]


# --- Confidentiality -------------------------------------------------------------------


def test_no_confidential_content_for_any_reader(client, journey):
    cadre = journey["cadre"]
    pages = [
        (cadre.user, PORTAL),
        (journey["mentor_cadre"].user, PORTAL),
        (journey["delegue_a"], admin_url(cadre)),
        (journey["admin"], admin_url(cadre)),
        (_superuser(), admin_url(cadre)),
    ]
    for user, url in pages:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, (user, url)
        html = response.content.decode()
        assert SECRET not in html, (user, url)
        # Nor the evaluation's answers (a 2/5 satisfaction, objectives "non").
        assert "Satisfaction" not in html and "satisfaction" not in html


# --- Query bound -----------------------------------------------------------------------


def _count(client, user, url):
    client.force_login(user)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_same_number_of_queries_for_1_and_40_items(client, two_ministries):
    m = two_ministries
    small = make_cadre_user(structure=m["a_srv"])
    large = make_cadre_user(structure=m["a_srv"])
    history(small, 1, programmes=1)
    history(large, 40, programmes=4)
    assert large.documents_parcours.count() == 40
    for user_of, url_of in [
        (lambda c: c.user, lambda c: PORTAL),
        (lambda c: m["delegue_a"], admin_url),
        (lambda c: m["admin"], admin_url),
    ]:
        few = _count(client, user_of(small), url_of(small))
        many = _count(client, user_of(large), url_of(large))
        assert few == many, (url_of(small), few, many)
    assert few <= 30


# --- Permissions -----------------------------------------------------------------------


def test_a_delegue_of_another_perimeter_gets_404(client, journey):
    client.force_login(journey["delegue_b"])
    assert client.get(admin_url(journey["cadre"])).status_code == 404
    document = journey["cadre"].documents_parcours.get(nature="plan")
    url = reverse("admin:cadres_cadre_dossier_document", args=[journey["cadre"].pk, document.pk])
    assert client.get(url).status_code == 404
    delete = reverse(
        "admin:cadres_cadre_dossier_document_supprimer", args=[journey["cadre"].pk, document.pk]
    )
    assert client.post(delete).status_code == 404
    assert DocumentParcours.objects.filter(pk=document.pk).exists()


def test_the_portal_shows_only_ones_own_file(client, journey):
    other = make_cadre_user(structure=journey["b"])
    other.viviers.add(Vivier.objects.create(nom="Vivier de quelqu'un d'autre"))
    client.force_login(other.user)
    html = client.get(PORTAL).content.decode()
    assert "Vivier de quelqu&#x27;un d&#x27;autre" in html
    assert "Groupe Horizon" not in html and "Zoé MARTIN" not in html


def test_a_user_without_a_cadre_profile_gets_404(client, db):
    client.force_login(UserFactory())
    assert client.get(PORTAL).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, journey):
    response = client.get(PORTAL)
    assert response.status_code == 302 and response["Location"].startswith("/compte/login/")
    response = client.get(admin_url(journey["cadre"]))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_cadre_cannot_open_the_admin_file(client, journey):
    client.force_login(journey["cadre"].user)
    response = client.get(admin_url(journey["cadre"]))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_documents_download_for_their_cadre_only(client, journey):
    document = journey["cadre"].documents_parcours.get(nature="plan")
    url = reverse("parcours:document", args=[document.pk])
    client.force_login(journey["cadre"].user)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 plan\n%%EOF"
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="plan-individuel.pdf"' in response["Content-Disposition"]
    client.force_login(make_cadre_user(structure=journey["a_srv"]).user)
    assert client.get(url).status_code == 404
    client.force_login(journey["delegue_a"])
    assert client.get(url).status_code == 404  # not a cadre: the portal has no file for them
    # A reference without a file has nothing to download.
    bilan = journey["cadre"].documents_parcours.get(nature="bilan")
    client.force_login(journey["cadre"].user)
    assert client.get(reverse("parcours:document", args=[bilan.pk])).status_code == 404


# --- Documents: added and removed in the admin -------------------------------------------


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def _post(client, cadre, **data):
    payload = {"nature": "plan", "date": "2026-03-02", "reference": "", **data}
    return client.post(admin_url(cadre), payload)


def _docx():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_a_delegue_adds_a_document_the_cadre_downloads_it(client, journey):
    cadre = journey["cadre"]
    client.force_login(journey["delegue_a"])
    content = _docx()  # built once: a zip records the time it was made
    response = _post(client, cadre, fichier=_upload("Plan 2026.docx", content))
    assert response.status_code == 302
    document = cadre.documents_parcours.get(nom_fichier="Plan 2026.docx")
    assert document.ajoute_par == journey["delegue_a"]
    assert document.type_fichier.endswith("wordprocessingml.document")
    client.force_login(cadre.user)
    assert client.get(reverse("parcours:document", args=[document.pk])).content == content


def test_a_reference_alone_is_enough(client, journey):
    client.force_login(journey["delegue_a"])
    assert _post(client, journey["cadre"], reference="Dossier papier, armoire 3").status_code == 302
    assert journey["cadre"].documents_parcours.filter(reference__startswith="Dossier").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("plan.exe", b"MZ\x90\x00", "Format non pris en charge"),
        ("plan.pdf", b"MZ\x90\x00 not a pdf", "n&#x27;est pas un document PDF valide"),
        ("plan.odt", _docx(), "n&#x27;est pas un document ODT valide"),
        ("plan.pdf", b"", "Le fichier soumis est vide"),
    ],
)
def test_a_bad_file_is_refused_in_french_and_nothing_is_saved(
    client, journey, name, content, message
):
    before = DocumentParcours.objects.count()
    client.force_login(journey["delegue_a"])
    response = _post(client, journey["cadre"], fichier=_upload(name, content))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert DocumentParcours.objects.count() == before


def test_an_oversized_file_is_refused(client, journey, settings):
    settings.PARCOURS_MAX_UPLOAD_SIZE = 1024 * 1024
    before = DocumentParcours.objects.count()
    client.force_login(journey["delegue_a"])
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1)
    response = _post(client, journey["cadre"], fichier=_upload("plan.pdf", big))
    assert response.status_code == 200
    assert "Le fichier dépasse la taille maximale autorisée (1 Mo)" in response.content.decode()
    assert DocumentParcours.objects.count() == before


def test_neither_reference_nor_file_is_refused(client, journey):
    before = DocumentParcours.objects.count()
    client.force_login(journey["delegue_a"])
    response = _post(client, journey["cadre"])
    assert "Indiquez une référence ou joignez un fichier." in response.content.decode()
    assert DocumentParcours.objects.count() == before


def test_a_delegue_removes_a_document(client, journey):
    cadre = journey["cadre"]
    document = cadre.documents_parcours.get(nature="bilan")
    client.force_login(journey["delegue_a"])
    url = reverse("admin:cadres_cadre_dossier_document_supprimer", args=[cadre.pk, document.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert not DocumentParcours.objects.filter(pk=document.pk).exists()


def test_a_document_of_another_cadre_cannot_be_reached_through_this_file(client, journey):
    other = make_cadre_user(structure=journey["a_srv"])
    document = DocumentParcours.objects.create(
        cadre=other, nature="bilan", date=_day(1), reference="Autre"
    )
    client.force_login(journey["delegue_a"])
    url = reverse(
        "admin:cadres_cadre_dossier_document_supprimer", args=[journey["cadre"].pk, document.pk]
    )
    assert client.post(url).status_code == 404
    assert DocumentParcours.objects.filter(pk=document.pk).exists()


def _cohorts(cadre, count, by):
    from cohortes.models import Cohorte

    start = timezone.localdate()
    for i in range(count):
        cohorte = Cohorte.objects.create(
            nom=f"Cycle des futurs directeurs n° {i + 1}",
            structure=cadre.structure,
            origine="liste",
            date_debut=start - timedelta(days=30 * i),
            date_fin=start + timedelta(days=180),
            droit_coaching=i == 0,
            droit_immersion=True,
            creee_par=by,
        )
        cohorte.membres.create(cadre=cadre)


def test_the_file_lists_the_cohort_programmes_and_the_rights_they_open(client, two_ministries):
    m = two_ministries
    few, many = make_cadre_user(structure=m["a_srv"]), make_cadre_user(structure=m["a_srv"])
    _cohorts(few, 1, m["delegue_a"])
    _cohorts(many, 3, m["delegue_a"])
    client.force_login(many.user)
    html = unescape(client.get(PORTAL).content.decode())
    assert "Cycle des futurs directeurs n° 3" in html
    assert "ouvre droit à un coaching et à une période d'immersion professionnelle" in html
    assert "Programme de cohorte « Cycle des futurs directeurs n° 1 »" in timeline(html)[-1]
    assert _count(client, few.user, PORTAL) == _count(client, many.user, PORTAL)
    assert _count(client, m["delegue_a"], admin_url(few)) == _count(
        client, m["delegue_a"], admin_url(many)
    )
