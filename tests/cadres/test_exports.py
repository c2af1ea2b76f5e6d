"""Exports of the admin lists (``cadres.exports``): CSV and XLSX of exactly the list the
délégué sees (their perimeter, the filters, the search), French headers and dates,
streamed, refused without the view permission, and never a word of what is
confidential (coaching notes, what is said in a co-development séance, private notes
on mentoring meetings)."""

import html
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from openpyxl import load_workbook

from accompagnement.models import Demande, Evaluation, Session
from cadres import services as cadre_services
from cadres.exports import StreamingExportMixin
from cadres.models import Cadre, Invitation, Structure, Vivier
from coaching.models import Coach, Coaching, NoteCoach, Specialite
from codev.models import Apprentissage, Groupe, PlanAction, Seance
from cohortes.models import Cohorte
from immersion.models import Immersion
from mentorat.models import (
    Campagne,
    Domaine,
    Mentor,
    Mentorat,
    Mentore,
    MentoreEnAttente,
    NotePrivee,
    Offre,
    Rencontre,
)
from rgpd.models import Trace
from tests.exports import as_dicts, content, csv_rows, csv_text, export_url, xlsx_rows
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    DomaineFactory,
    GroupeFactory,
    ImmersionFactory,
    MembreFactory,
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    SeanceFactory,
    UserFactory,
    VivierFactory,
    with_totp,
)

pytestmark = pytest.mark.django_db

CSV = export_url(Cadre)
XLSX = export_url(Cadre, "xlsx")
CHANGELIST = reverse("admin:cadres_cadre_changelist")


@pytest.fixture
def m(two_ministries):
    return two_ministries


def emails(rows):
    return {row["Adresse électronique professionnelle"] for row in as_dicts(rows)}


# --- The cadres' list ----------------------------------------------------------------


def test_cadre_csv_holds_the_perimeter_only_with_french_headers(client, m):
    inside = CadreFactory(structure=m["a_dir"], nom="Chevalier", date_prise_poste=date(2024, 3, 5))
    client.force_login(m["delegue_a"])
    response = client.get(CSV)
    assert response.status_code == 200
    assert response.streaming  # written while it is sent, whatever the size
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="cadres-{timezone.localdate():%Y-%m-%d}.csv"' in disposition
    rows = csv_rows(response)
    assert rows[0][:6] == [
        "Identifiant",
        "Identifiant RH",
        "Civilité",
        "Nom",
        "Prénom",
        "Adresse électronique professionnelle",
    ]
    assert "Date de prise de poste" in rows[0] and "Structure" in rows[0]
    assert emails(rows) == {m["cadre_a"].email, inside.email}
    chevalier = next(r for r in as_dicts(rows) if r["Nom"] == "Chevalier")
    assert chevalier["Date de prise de poste"] == "05/03/2024"  # French dates
    assert chevalier["Structure"] == "Direction A1"
    assert chevalier["Civilité"] == "Madame"
    assert chevalier["Actif"] == "oui"


def test_cadre_xlsx_opens_with_openpyxl_and_holds_the_perimeter_only(client, m):
    CadreFactory(structure=m["a_dir"], nom="Chevalier", date_prise_poste=date(2024, 3, 5))
    client.force_login(m["delegue_a"])
    response = client.get(XLSX)
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f"cadres-{timezone.localdate():%Y-%m-%d}.xlsx" in response["Content-Disposition"]
    rows = xlsx_rows(response)
    header, *lines = rows
    assert header[3:6] == ["Nom", "Prénom", "Adresse électronique professionnelle"]
    mails = {line[5] for line in lines}
    assert m["cadre_a"].email in mails and m["cadre_b"].email not in mails
    assert len(lines) == 2
    chevalier = next(line for line in lines if line[3] == "Chevalier")
    # A real date cell, shown as dd/mm/yyyy.
    assert chevalier[header.index("Date de prise de poste")] == datetime(2024, 3, 5)
    sheet = load_workbook(BytesIO(content(client.get(XLSX)))).worksheets[0]
    column = header.index("Date de prise de poste") + 1
    dated = [row[0] for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column)]
    assert {cell.number_format for cell in dated if cell.value} == {"DD/MM/YYYY"}
    assert sheet.title == "Cadres"


def test_delegue_of_another_ministry_gets_only_their_own(client, m):
    client.force_login(m["delegue_b"])
    assert emails(csv_rows(client.get(CSV))) == {m["cadre_b"].email}
    lines = xlsx_rows(client.get(XLSX))[1:]
    assert [line[5] for line in lines] == [m["cadre_b"].email]


def test_national_administrator_exports_everyone(client, m):
    client.force_login(m["admin"])
    assert {m["cadre_a"].email, m["cadre_b"].email} <= emails(csv_rows(client.get(CSV)))


def test_export_follows_the_filters_the_search_and_the_order(client, m):
    gone = CadreFactory(structure=m["a_srv"], nom="Parti", actif=False)
    zoe = CadreFactory(structure=m["a_dir"], nom="Zola", prenom="Zoé")
    client.force_login(m["delegue_a"])
    assert emails(csv_rows(client.get(CSV, {"actif__exact": "0"}))) == {gone.email}
    assert emails(csv_rows(client.get(CSV, {"q": "zola"}))) == {zoe.email}
    assert emails(csv_rows(client.get(CSV, {"structure__id__exact": m["a_dir"].pk}))) == {zoe.email}
    # The list's order (here by name, descending), every page of it.
    names = [row["Nom"] for row in as_dicts(csv_rows(client.get(CSV, {"o": "-1"})))]
    assert names == sorted(names, reverse=True) and len(names) == 3
    # A filter naming something outside the perimeter reaches nothing outside.
    body = csv_text(client.get(CSV, {"structure__id__exact": m["b"].pk}))
    assert m["cadre_b"].email not in body


def test_the_buttons_keep_the_list_query_string(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(CHANGELIST, {"actif__exact": "1", "q": "alpha", "o": "2", "p": "1"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f'href="{CSV}?actif__exact=1&o=2&q=alpha"' in page
    assert f'href="{XLSX}?actif__exact=1&o=2&q=alpha"' in page
    assert "Exporter en CSV" in page and "Exporter en XLSX" in page


def test_an_invalid_filter_goes_back_to_the_list(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(CSV, {"actif__exact": "peut-être"})
    assert response.status_code == 302
    assert response.url == f"{CHANGELIST}?e=1"


def test_without_the_view_permission_the_export_is_refused(client, m):
    staff = with_totp(UserFactory(is_staff=True))  # in the admin, no permission
    client.force_login(staff)
    assert client.get(CSV).status_code == 403
    assert client.get(XLSX).status_code == 403
    client.force_login(UserFactory())  # not staff: sent to the admin's sign-in
    response = client.get(CSV)
    assert response.status_code == 302 and "/login/" in response.url
    client.logout()
    assert client.get(XLSX).status_code == 302


def test_the_import_export_page_is_gone():
    for name in ("cadres_cadre_export", "coaching_coaching_export", "mentorat_mentor_export"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:{name}")


def test_text_never_runs_as_a_formula(client, m):
    CadreFactory(structure=m["a_srv"], nom='=HYPERLINK("http://evil.example","x")', prenom="+1")
    client.force_login(m["delegue_a"])
    row = next(r for r in as_dicts(csv_rows(client.get(CSV))) if "HYPERLINK" in r["Nom"])
    assert row["Nom"].startswith("'=") and row["Prénom"] == "'+1"
    sheet = load_workbook(BytesIO(content(client.get(XLSX)))).worksheets[0]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if "HYPERLINK" in str(c.value)]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_export_queries_do_not_grow_with_rows(client, m, fast_password_hasher):
    client.force_login(m["delegue_a"])

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            rows = len(content(response).splitlines())
        return len(queries), rows

    CadreFactory.create_batch(3, structure=m["a_srv"])
    few = count(CSV), count(XLSX)
    CadreFactory.create_batch(40, structure=m["a_srv"])
    many = count(CSV), count(XLSX)
    assert few[0][1] < many[0][1]
    assert (few[0][0], few[1][0]) == (many[0][0], many[1][0])


# --- Every list a délégué sees ---------------------------------------------------------

SECRETS = [
    "NOTE-COACH-SECRETE",
    "PROBLEME-EXPOSE-SECRET",
    "CONTRAT-SECRET",
    "PLAN-ACTION-SECRET",
    "APPRENTISSAGE-SECRET",
    "NOTE-PRIVEE-SECRETE",
]


@pytest.fixture
def world(m, fast_password_hasher):
    """Something of every list in each ministry (markers "alpha" in A, "bravo" in B),
    shared referentials and pools, and confidential content on A's programmes."""
    a, b = m["a_srv"], m["b"]
    cadre_a, cadre_b = m["cadre_a"], m["cadre_b"]
    vivier = VivierFactory(nom="Vivier des futurs directeurs")
    cadre_a.viviers.add(vivier)
    cadre_b.viviers.add(vivier)
    for cadre in (cadre_a, cadre_b):
        cadre_services.invite_cadre(cadre)
        Demande.objects.create(
            cadre=cadre, dispositif="coaching", contexte="prise_de_poste", motivation="Motivé."
        )
    coach = CoachFactory(nom="Commun", organisme="Cabinet partagé")
    coachings = {}
    for key, cadre in (("a", cadre_a), ("b", cadre_b)):
        coachings[key] = CoachingFactory(cadre=cadre, coach=coach, statut="en_cours")
        Evaluation.objects.create(
            dispositif="coaching",
            programme_type=ContentType.objects.get_for_model(Coaching),
            programme_id=coachings[key].pk,
            cadre=cadre,
            participant=UserFactory(),
            satisfaction=5,
            commentaire=f"COMMENTAIRE-INDIVIDUEL-{key}",
            remplie_le=timezone.now(),
        )
        ImmersionFactory(cadre=cadre, structure_accueil=f"Préfecture {key}")
    NoteCoach.objects.create(
        coaching=coachings["a"], auteur=UserFactory(), texte="NOTE-COACH-SECRETE"
    )
    groupe_a = GroupeFactory(nom="Groupe Alpha", structure=a)
    GroupeFactory(nom="Groupe Bravo", structure=b)
    membre = MembreFactory(groupe=groupe_a, cadre=cadre_a)
    seance = SeanceFactory(groupe=groupe_a, numero=1, debut=timezone.now() - timedelta(days=2))
    Seance.objects.filter(pk=seance.pk).update(
        statut=Session.Statut.REALISEE,
        probleme="PROBLEME-EXPOSE-SECRET",
        contrat="CONTRAT-SECRET",
        client=membre,
    )
    PlanAction.objects.create(seance=seance, membre=membre, actions="PLAN-ACTION-SECRET")
    Apprentissage.objects.create(seance=seance, membre=membre, texte="APPRENTISSAGE-SECRET")
    DomaineFactory(libelle="Pilotage de la transformation")
    MentorFactory(nom="Partagé", email="mentor-commun@example.gouv.fr")  # no structure: shared
    mentor_a = MentorFactory(nom="Alphamentor", structure=m["a"], user=UserFactory())
    MentorFactory(nom="Bravomentor", structure=b)
    mentore_a = MentoreFactory(cadre=cadre_a)
    mentore_b = MentoreFactory(cadre=cadre_b)
    # Queue offers of a freed place, one per ministry.
    for mentor, mentore in ((mentor_a, mentore_a), (MentorFactory(structure=b), mentore_b)):
        Offre.objects.create(mentor=mentor, mentore=mentore, evenement="fin", score=10)
    relation = MentoratFactory(mentor=mentor_a, mentore=cadre_a, statut="en_cours")
    MentoratFactory(mentor=MentorFactory(nom="Autre"), mentore=cadre_b, statut="en_cours")
    rencontre = Rencontre.objects.create(
        mentorat=relation,
        debut=timezone.now() - timedelta(days=5),
        statut=Session.Statut.REALISEE,
    )
    NotePrivee.objects.create(
        rencontre=rencontre, auteur=mentor_a.user, texte="NOTE-PRIVEE-SECRETE"
    )
    for key, structure in (("Alpha", m["a"]), ("Bravo", b)):
        Campagne.objects.create(nom=f"Campagne {key}").structures.set([structure])
    for key, structure, cadre in (("Alpha", a, cadre_a), ("Bravo", b, cadre_b)):
        cohorte = Cohorte.objects.create(
            nom=f"Cohorte {key}",
            structure=structure,
            origine="liste",
            date_debut=timezone.localdate(),
            date_fin=timezone.localdate() + timedelta(days=200),
        )
        cohorte.membres.create(cadre=cadre)
    return m


# What identifies ministry A's rows in each export (shared lists: None).
EXPORTED = {
    Structure: "Ministère A",
    Vivier: None,
    Cadre: "ALPHA",
    Invitation: "ALPHA",
    Demande: "ALPHA",
    Evaluation: "ALPHA",
    Specialite: None,
    Coach: None,
    Coaching: "ALPHA",
    Groupe: "Groupe Alpha",
    Immersion: "ALPHA",
    Domaine: None,
    Mentor: "ALPHAMENTOR",
    Mentore: "ALPHA",
    MentoreEnAttente: "ALPHA",
    Offre: "ALPHA",
    Campagne: "Campagne Alpha",
    Mentorat: "ALPHA",
    Trace: "ALPHA",
    Cohorte: "Cohorte Alpha",
}


def a_only(m):
    cadre = m["cadre_a"]
    return [
        cadre.email,
        str(cadre),
        "Alphamentor",
        "Groupe Alpha",
        "Campagne Alpha",
        "Cohorte Alpha",
        "Ministère A",
        "Direction A1",
        "Service A1-1",
        "Préfecture a",
    ]


def b_only(m):
    cadre = m["cadre_b"]
    return [
        cadre.email,
        str(cadre),
        "Bravomentor",
        "Groupe Bravo",
        "Campagne Bravo",
        "Cohorte Bravo",
        "Ministère B",
        "Préfecture b",
    ]


def body_of(response, fmt):
    if fmt == "csv":
        return csv_text(response)
    return "\n".join(
        ";".join("" if v is None else str(v) for v in row) for row in xlsx_rows(response)
    )


@pytest.mark.parametrize("model", list(EXPORTED), ids=lambda model: model._meta.label_lower)
def test_every_list_exports_its_perimeter_and_nothing_confidential(client, world, model):
    m = world
    individual = ["COMMENTAIRE-INDIVIDUEL"]
    for who, marker_ok, forbidden in (
        ("delegue_a", EXPORTED[model], b_only(m) + individual),
        ("delegue_b", EXPORTED[model] and "BRAVO", a_only(m) + individual),
        ("admin", EXPORTED[model], individual),
    ):
        client.force_login(m[who])
        if model is Structure and who == "delegue_b":
            marker_ok = "Ministère B"
        elif model is Groupe and who == "delegue_b":
            marker_ok = "Groupe Bravo"
        elif model is Campagne and who == "delegue_b":
            marker_ok = "Campagne Bravo"
        for fmt in ("csv", "xlsx"):
            response = client.get(export_url(model, fmt))
            assert response.status_code == 200, (who, fmt)
            assert response.streaming
            body = body_of(response, fmt)
            assert len(body.splitlines()) >= 2, (who, fmt, "no row")
            if marker_ok:
                assert marker_ok.lower() in body.lower(), (who, fmt, marker_ok)
            for text in forbidden:
                assert text.lower() not in body.lower(), (who, fmt, text)
            for secret in SECRETS:
                assert secret not in body, (who, fmt, secret)


def test_every_list_a_delegue_sees_has_its_exports(rf, m):
    request = rf.get("/admin/")
    request.user = m["delegue_a"]
    visible = {
        model
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(request)
    }
    assert visible == set(EXPORTED)
    for model in visible:
        assert isinstance(admin.site._registry[model], StreamingExportMixin), model
        export_url(model, "csv"), export_url(model, "xlsx")  # both URLs exist


def test_vivier_counts_are_those_of_the_perimeter(client, world):
    client.force_login(world["delegue_a"])
    rows = as_dicts(csv_rows(client.get(export_url(Vivier))))
    assert rows == [{"Vivier": "Vivier des futurs directeurs", "Actif": "oui", "Cadres": "1"}]
    client.force_login(world["admin"])
    rows = as_dicts(csv_rows(client.get(export_url(Vivier))))
    assert rows[0]["Cadres"] == "2"


def test_evaluations_export_who_answered_never_the_answers(client, world):
    client.force_login(world["admin"])
    rows = as_dicts(csv_rows(client.get(export_url(Evaluation))))
    assert len(rows) == 2
    assert set(rows[0]) == {
        "Dispositif",
        "Cadre accompagné",
        "Structure",
        "Participant",
        "Demandée le",
        "Remplie le",
    }


def test_mentor_pool_export_shares_the_unattached_mentors(client, world):
    for who in ("delegue_a", "delegue_b"):
        client.force_login(world[who])
        body = csv_text(client.get(export_url(Mentor)))
        assert "mentor-commun@example.gouv.fr" in body


def test_immersion_and_groupe_exports_keep_their_columns(client, world):
    client.force_login(world["delegue_a"])
    immersion = as_dicts(csv_rows(client.get(export_url(Immersion))))[0]
    assert immersion["Agent"] == str(world["cadre_a"])
    assert immersion["Structure d'accueil"] == "Préfecture a"
    groupe = as_dicts(csv_rows(client.get(export_url(Groupe))))[0]
    assert groupe["Groupe"] == "Groupe Alpha" and groupe["Membres"] == "1"
    assert groupe["Séances réalisées"] == "1" and groupe["Taux de présence"] == "—"
    assert Mentorat.objects.count() == 2 and Mentore.objects.count() == 2
