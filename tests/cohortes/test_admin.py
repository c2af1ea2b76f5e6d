"""The cohort pages of the admin: creation, follow-up (figures, the 6-week alert, a
fixed number of queries), campaign, composition, exports, and the perimeter: a
délégué of another ministry gets 404 on every page of a cohort."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Evaluation, Session
from cadres.services import account_for
from coaching.models import Coaching
from codev.models import EvaluationRendue, Groupe, Presence, Seance
from cohortes import services
from cohortes.models import Cohorte
from cohortes.suivi import follow_up
from mentorat.models import Mentorat, Mentore, Rencontre
from tests.exports import as_dicts, csv_rows, xlsx_rows
from tests.factories import (
    CadreFactory,
    CoachingFactory,
    GroupeFactory,
    MembreFactory,
    MentoratFactory,
    SeanceCoachingFactory,
    SeanceFactory,
)

from .helpers import make_cohort, start_weeks_ago

pytestmark = pytest.mark.django_db


def url(name, cohorte):
    return reverse(f"admin:cohortes_cohorte_{name}", args=[cohorte.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Creation page -------------------------------------------------------------------


def test_delegue_creates_a_cohort_from_a_vivier(client, cw):
    client.force_login(cw["delegue_a"])
    add = reverse("admin:cohortes_cohorte_add")
    page = client.get(add)
    assert page.status_code == 200
    # The structures offered are those of the perimeter.
    choices = {str(s) for s in page.context["form"].fields["structure"].queryset}
    assert str(cw["a"]) in choices and str(cw["b"]) not in choices
    start = timezone.localdate()
    response = client.post(
        add,
        {
            "nom": "Cycle 2026",
            "structure": cw["a"].pk,
            "date_debut": start,
            "date_fin": start + timedelta(days=183),
            "origine": "vivier",
            "vivier": cw["vivier"].pk,
            "droit_immersion": "on",
        },
    )
    cohorte = Cohorte.objects.get()
    assert response.status_code == 302 and response.url == url("change", cohorte)
    assert cohorte.membres.count() == 12 and cohorte.droit_immersion
    assert "est créée avec 12 membre(s)" in messages_of(response)[0]


def test_creation_errors_are_shown_in_french_and_nothing_is_created(client, cw):
    client.force_login(cw["delegue_a"])
    start = timezone.localdate()
    response = client.post(
        reverse("admin:cohortes_cohorte_add"),
        {
            "nom": "Cycle 2026",
            "structure": cw["a"].pk,
            "date_debut": start,
            "date_fin": start + timedelta(days=30),
            "origine": "liste",
            "liste": "MAT000\nINCONNU",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Un programme de cohorte dure de 3 à 12 mois" in text
    assert not Cohorte.objects.exists()
    response = client.post(
        reverse("admin:cohortes_cohorte_add"),
        {
            "nom": "Cycle 2026",
            "structure": cw["a"].pk,
            "date_debut": start,
            "date_fin": start + timedelta(days=183),
            "origine": "liste",
            "liste": "MAT000\nINCONNU",
        },
    )
    assert "Identifiants inconnus ou hors de votre périmètre : INCONNU" in (
        response.content.decode()
    )
    assert not Cohorte.objects.exists()


# --- Follow-up -----------------------------------------------------------------------


def activity(cw, cohorte):
    """Member 0: a mentoring meeting a week ago and an answered evaluation; member 1: a
    séance attended two weeks ago (evaluated), one missed; member 2: a coaching session
    50 days ago only (silent for more than 6 weeks)."""
    m0, m1, m2 = cw["cadres"][:3]
    relation = MentoratFactory(mentore=m0, mentor=cw["mentors"][0], statut="en_cours")
    Rencontre.objects.create(
        mentorat=relation,
        debut=timezone.now() - timedelta(days=7),
        statut=Session.Statut.REALISEE,
    )
    Rencontre.objects.create(mentorat=relation, debut=timezone.now() + timedelta(days=7))
    Evaluation.objects.create(
        dispositif="mentorat",
        programme_type=ContentType.objects.get_for_model(Mentorat),
        programme_id=relation.pk,
        cadre=m0,
        participant=account_for(m0),
        satisfaction=4,
        remplie_le=timezone.now(),
    )
    groupe = GroupeFactory(nom="Groupe Étoile", structure=cw["a"])
    cohorte.groupes.add(groupe)
    membre = MembreFactory(groupe=groupe, cadre=m1, date_entree=start_weeks_ago(8))
    held = SeanceFactory(groupe=groupe, numero=1, debut=timezone.now() - timedelta(days=14))
    missed = SeanceFactory(groupe=groupe, numero=2, debut=timezone.now() - timedelta(days=3))
    Seance.objects.filter(pk__in=[held.pk, missed.pk]).update(statut=Session.Statut.REALISEE)
    Presence.objects.create(seance=missed, membre=membre, present=False)
    EvaluationRendue.objects.create(seance=held, membre=membre)
    coaching = CoachingFactory(cadre=m2, statut=Coaching.Statut.EN_COURS)
    SeanceCoachingFactory(
        coaching=coaching,
        debut=timezone.now() - timedelta(days=50),
        statut=Session.Statut.REALISEE,
    )
    return relation, groupe


def test_follow_up_lines_figures_and_the_six_week_alert(cw):
    cohorte = make_cohort(cw, cw["cadres"][:3], start=start_weeks_ago(10))
    activity(cw, cohorte)
    lines, figures = follow_up(cohorte)
    by_cadre = {line.cadre.pk: line for line in lines}
    m0, m1, m2 = (by_cadre[c.pk] for c in cw["cadres"][:3])
    today = timezone.localdate()

    assert m0.mentorat is not None and m0.rencontres == 1 and m0.evaluations == 1
    assert "(en cours)" in m0.mentorat_text
    assert m0.derniere_activite == today - timedelta(days=7) and not m0.alerte

    assert m1.groupe_text == "Groupe Étoile" and m1.seances_codev == 1  # one missed
    assert m1.evaluations == 1 and m1.derniere_activite == today - timedelta(days=14)
    assert not m1.alerte

    assert m2.seances_coaching == 1 and m2.coaching_text == "En cours"
    assert m2.derniere_activite == today - timedelta(days=50)
    assert m2.alerte

    assert figures == {
        "membres": 3,
        "mentorat": 1,
        "codev": 1,
        "coaching": 1,
        "immersion": 0,
        "rencontres": 1,
        "seances_codev": 1,
        "seances_coaching": 1,
        "evaluations": 2,
        "alertes": 1,
    }


def test_no_alert_in_the_first_six_weeks_nor_after_the_end(cw):
    recent = make_cohort(cw, cw["cadres"][:2], start=start_weeks_ago(5))
    assert not any(line.alerte for line in follow_up(recent)[0])
    old = make_cohort(cw, cw["cadres"][:2], start=start_weeks_ago(7))
    assert all(line.alerte for line in follow_up(old)[0])
    ended = make_cohort(cw, cw["cadres"][:2], start=start_weeks_ago(40))
    assert not any(line.alerte for line in follow_up(ended)[0])


def test_follow_up_page_shows_members_figures_and_alerts(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:3], start=start_weeks_ago(10))
    relation, _ = activity(cw, cohorte)
    client.force_login(cw["delegue_a"])
    response = client.get(url("change", cohorte))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Suivi de la cohorte : Cycle des futurs directeurs 2026" in text
    assert str(relation.mentor) in text and "Groupe Étoile" in text
    assert text.count("Aucune activité depuis 6 semaines</strong>") == 1
    assert "Lancer la campagne de mentorat" in text
    assert client.post(url("change", cohorte)).status_code == 405


def _populate(cw, cohorte, cadres):
    """Each member with a relation and a meeting, a group membership, a coaching."""
    groupe = GroupeFactory(structure=cw["a"])
    cohorte.groupes.add(groupe)
    seance = SeanceFactory(groupe=groupe, numero=1, debut=timezone.now() - timedelta(days=3))
    Seance.objects.filter(pk=seance.pk).update(statut=Session.Statut.REALISEE)
    for cadre in cadres:
        relation = MentoratFactory(mentore=cadre, statut="en_cours")
        Rencontre.objects.create(
            mentorat=relation, debut=timezone.now() - timedelta(days=2), statut="realisee"
        )
        MembreFactory(groupe=groupe, cadre=cadre, date_entree=start_weeks_ago(4))
        CoachingFactory(cadre=cadre, statut="en_cours")


def test_follow_up_queries_do_not_grow_with_the_cohort(client, cw):
    few = CadreFactory.create_batch(3, structure=cw["a_srv"])
    many = CadreFactory.create_batch(30, structure=cw["a_dir2"])
    for cadre in few + many:
        cadre.matricule = f"Q{cadre.pk}"
        cadre.save()
    small = make_cohort(cw, few, nom="Petite", start=start_weeks_ago(8))
    large = make_cohort(cw, many, nom="Grande", start=start_weeks_ago(8))
    _populate(cw, small, few)
    _populate(cw, large, many)
    client.force_login(cw["delegue_a"])

    def count(cohorte):
        client.get(url("change", cohorte))  # warm caches out of the count
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("change", cohorte))
        assert response.status_code == 200
        assert len(response.context["lines"]) == cohorte.membres.count()
        assert response.context["figures"]["rencontres"] == cohorte.membres.count()
        return len(queries)

    assert count(small) == count(large)


# --- Exports ---------------------------------------------------------------------------


def test_follow_up_exports_csv_and_xlsx(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:3], start=start_weeks_ago(10))
    relation, _ = activity(cw, cohorte)
    client.force_login(cw["delegue_a"])
    response = client.get(url("suivi_csv", cohorte))
    assert response.status_code == 200 and response.streaming
    assert "suivi-cycle-des-futurs-directeurs-2026-" in response["Content-Disposition"]
    rows = as_dicts(csv_rows(response))
    assert len(rows) == 3
    m0 = next(r for r in rows if r["Nom"] == cw["cadres"][0].nom)
    assert m0["Rencontres de mentorat tenues"] == "1"
    assert m0["Mentorat"].startswith(str(relation.mentor))
    assert m0["Dernière activité"] == f"{timezone.localdate() - timedelta(days=7):%d/%m/%Y}"
    m2 = next(r for r in rows if r["Nom"] == cw["cadres"][2].nom)
    assert m2["Alerte"] == "Aucune activité depuis 6 semaines"

    sheet = xlsx_rows(client.get(url("suivi_xlsx", cohorte)))
    header, *lines = sheet
    assert header[0] == "Nom" and "Groupe de codéveloppement" in header
    assert len(lines) == 3
    assert "Groupe Étoile" in [line[header.index("Groupe de codéveloppement")] for line in lines]


# --- Perimeter -------------------------------------------------------------------------

PAGES = [
    ("change", "get"),
    ("history", "get"),
    ("groups", "get"),
    ("suivi_csv", "get"),
    ("suivi_xlsx", "get"),
    ("campaign", "post"),
    ("compose", "post"),
    ("move", "post"),
    ("confirm_groups", "post"),
    ("add_members", "post"),
    ("remove_member", "post"),
]


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_a_delegue_of_another_ministry_gets_404_on_every_cohort_page(client, cw, name, method):
    cohorte = make_cohort(cw, cw["cadres"][:3])
    client.force_login(cw["delegue_b"])
    assert getattr(client, method)(url(name, cohorte)).status_code == 404
    cohorte.refresh_from_db()
    assert cohorte.campagne is None and not cohorte.composition
    client.force_login(cw["delegue_a"])
    assert getattr(client, method)(url(name, cohorte)).status_code in (200, 302)


def test_the_list_holds_the_perimeter_only(client, cw):
    make_cohort(cw, cw["cadres"][:3], nom="Cohorte Alpha")
    services.create_cohort(
        cw["admin"],
        nom="Cohorte Bravo",
        structure=cw["b"],
        origine="liste",
        liste="MATB01",
        date_debut=timezone.localdate(),
        date_fin=timezone.localdate() + timedelta(days=200),
    )
    changelist = reverse("admin:cohortes_cohorte_changelist")
    client.force_login(cw["delegue_a"])
    names = [c.nom for c in client.get(changelist).context["cl"].result_list]
    assert names == ["Cohorte Alpha"]
    client.force_login(cw["delegue_b"])
    names = [c.nom for c in client.get(changelist).context["cl"].result_list]
    assert names == ["Cohorte Bravo"]
    client.force_login(cw["admin"])
    assert client.get(changelist).context["cl"].result_count == 2


def test_the_add_page_needs_the_permission(client, cw):
    from tests.factories import UserFactory, with_totp

    client.force_login(with_totp(UserFactory(is_staff=True)))
    assert client.get(reverse("admin:cohortes_cohorte_add")).status_code == 403


# --- Campaign and composition through the pages ------------------------------------


def test_campaign_button_launches_and_leads_to_the_review_page(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:4])
    client.force_login(cw["delegue_a"])
    response = client.post(url("campaign", cohorte))
    cohorte.refresh_from_db()
    assert response.url == reverse("admin:mentorat_campagne_change", args=[cohorte.campagne_id])
    assert cohorte.campagne.propositions.count() == 4
    # Twice: refused with a message, nothing more.
    response = client.post(url("campaign", cohorte))
    assert "déjà lancée" in messages_of(response)[-1]
    assert not Mentorat.objects.exists()


def test_composition_pages_compose_move_and_confirm(client, cw):
    cohorte = make_cohort(cw)
    client.force_login(cw["delegue_a"])
    assert "Aucune composition calculée" in client.get(url("groups", cohorte)).content.decode()
    client.post(url("compose", cohorte))
    cohorte.refresh_from_db()
    groups = cohorte.composition["groups"]
    page = client.get(url("groups", cohorte)).content.decode()
    assert 'id="groupe-1"' in page and 'id="groupe-2"' in page
    # A reload shows the stored proposal: nothing recomputed.
    client.get(url("groups", cohorte))
    cohorte.refresh_from_db()
    assert cohorte.composition["groups"] == groups

    manager, report = cw["cadres"][0].pk, cw["cadres"][1].pk
    target = next(i for i, g in enumerate(groups) if manager in g)
    response = client.post(url("move", cohorte), {"cadre": report, "groupe": target})
    assert any("responsable hiérarchique" in m for m in messages_of(response))
    cohorte.refresh_from_db()
    assert cohorte.composition["groups"] == groups

    start = timezone.localdate() + timedelta(days=14)
    data = {
        "date_debut": start,
        "date_fin": start + timedelta(days=200),
        "rythme_semaines": 3,
        "animateur_1": cw["animateur"].pk,
    }
    response = client.post(url("confirm_groups", cohorte), data)  # group 2 has none
    assert not Groupe.objects.exists()
    assert any("Animateur du groupe 2" in m for m in messages_of(response))
    data["animateur_2"] = cw["animateur"].pk
    response = client.post(url("confirm_groups", cohorte), data)
    assert response.url == url("change", cohorte)
    assert Groupe.objects.count() == 2
    assert all(g.membres.count() <= 8 for g in Groupe.objects.all())
    page = client.get(url("groups", cohorte)).content.decode()
    assert 'id="groupes-crees"' in page and "Confirmer et créer les groupes" not in page


def test_a_member_moved_out_of_the_perimeter_leaves_the_follow_up(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:3])
    moved = cw["cadres"][0]
    moved.structure = cw["b"]
    moved.save()
    client.force_login(cw["delegue_a"])
    lines = client.get(url("change", cohorte)).context["lines"]
    assert moved.pk not in {line.cadre.pk for line in lines} and len(lines) == 2
    rows = as_dicts(csv_rows(client.get(url("suivi_csv", cohorte))))
    assert moved.email not in {row["Adresse électronique"] for row in rows}
    client.force_login(cw["admin"])
    assert len(client.get(url("change", cohorte)).context["lines"]) == 3


# --- Members after creation ------------------------------------------------------------


def test_delegue_adds_late_members_who_join_the_launched_campaign(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:5])
    services.launch_campaign(cohorte, by=cw["delegue_a"])
    cohorte.refresh_from_db()
    client.force_login(cw["delegue_a"])
    page = client.get(url("change", cohorte)).content.decode()
    assert 'id="ajout-membres"' in page and "Retirer" in page

    late = cw["cadres"][5:7]
    response = client.post(
        url("add_members", cohorte), {"liste": f"{late[0].matricule}\n{late[1].email}"}
    )
    assert response.status_code == 302
    assert "2 membre(s) ajouté(s)" in messages_of(response)[0]
    assert cohorte.membres.count() == 7
    assert set(cohorte.campagne.reservee_a.all()) >= set(late)
    assert Mentore.objects.filter(cadre__in=late, statut="en_attente").count() == 2


def test_adding_an_unknown_or_outside_member_adds_nobody(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:5])
    client.force_login(cw["delegue_a"])
    for liste in (f"{cw['cadres'][6].matricule}\nINCONNU-42", cw["cadre_b"].matricule):
        response = client.post(url("add_members", cohorte), {"liste": liste})
        assert response.status_code == 302
        assert "aucun membre n'a été ajouté" in messages_of(response)[-1]
        assert cohorte.membres.count() == 5


def test_delegue_removes_a_member_who_leaves_the_campaign_and_the_proposal(client, cw):
    cohorte = make_cohort(cw, cw["cadres"][:6])
    services.launch_campaign(cohorte, by=cw["delegue_a"])
    services.propose_groups(cohorte)
    cohorte.refresh_from_db()
    leaving = cw["cadres"][2]
    client.force_login(cw["delegue_a"])
    response = client.post(url("remove_member", cohorte), {"cadre": leaving.pk})
    assert response.status_code == 302
    assert "ne fait plus partie de la cohorte" in messages_of(response)[0]
    cohorte.refresh_from_db()
    assert leaving not in services.member_cadres(cohorte)
    assert leaving not in cohorte.campagne.reservee_a.all()
    assert cohorte.composition == {}  # computed again for the members left
    # Somebody who is not a member: refused, nothing changes.
    response = client.post(url("remove_member", cohorte), {"cadre": cw["cadre_b"].pk})
    assert "n'est pas membre" in messages_of(response)[-1]
    assert cohorte.membres.count() == 5
