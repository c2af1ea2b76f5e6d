"""Mentoring in the admin, as a délégué uses it: the pool and the waiting list of
their perimeter, a campaign reviewed then confirmed (nothing sent before), the
relations' statuses through the services, private notes that no admin page shows, and
constant queries on the lists and the review page."""

import html
from datetime import datetime, time, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accompagnement.models import Evaluation, Notification, Session
from cadres.services import DELEGUES_GROUP
from mentorat import services
from mentorat.models import (
    Campagne,
    Domaine,
    Mentor,
    Mentorat,
    Mentore,
    NonApparie,
    NotePrivee,
    Proposition,
    Rencontre,
)
from tests.exports import csv_text
from tests.factories import (
    CadreFactory,
    DomaineFactory,
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
    make_delegue,
)

pytestmark = pytest.mark.django_db

S = Mentorat.Statut
MENTOR_LIST = reverse("admin:mentorat_mentor_changelist")
MENTORE_LIST = reverse("admin:mentorat_mentore_changelist")
MENTORAT_LIST = reverse("admin:mentorat_mentorat_changelist")
CAMPAGNE_LIST = reverse("admin:mentorat_campagne_changelist")
CAMPAGNE_ADD = reverse("admin:mentorat_campagne_add")


def url(name, *args):
    return reverse(f"admin:mentorat_{name}", args=args)


def text_of(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def m(two_ministries):
    """Ministry A gets a second direction, where its mentors work (another branch
    than the mentees' service)."""
    two_ministries["a_dir2"] = StructureFactory(
        nom="Direction A2", sigle="DA2", parent=two_ministries["a"], type="direction"
    )
    return two_ministries


@pytest.fixture
def domaines(db):
    return {
        "budget": DomaineFactory(code="budget", libelle="Pilotage budgétaire"),
        "rh": DomaineFactory(code="rh", libelle="Management des équipes"),
    }


def waiting(structure, besoins=(), **kwargs):
    return MentoreFactory(cadre=CadreFactory(structure=structure), besoins=list(besoins), **kwargs)


def campaign(structures, user=None, **kwargs):
    campagne = Campagne.objects.create(nom="Campagne", creee_par=user, **kwargs)
    campagne.structures.set(structures)
    return campagne


# --- Review, then send -------------------------------------------------------------


@pytest.fixture
def pools(m, domaines):
    """Two waiting mentees of ministry A and the mentors they may have: each mentee's
    best mentor is obvious, a spare one, and one in their own branch (forbidden)."""
    return {
        "budget_seeker": waiting(m["a_srv"], [domaines["budget"]]),
        "rh_seeker": waiting(m["a_srv"], [domaines["rh"]]),
        "budget": MentorFactory(
            nom="Budget",
            prenom="Bérénice",
            structure=m["a_dir2"],
            capacite=1,
            domaines=[domaines["budget"]],
        ),
        "rh": MentorFactory(nom="Rh", prenom="Romain", capacite=1, domaines=[domaines["rh"]]),
        "spare": MentorFactory(nom="Libre", prenom="Lucie", structure=m["a_dir2"], capacite=1),
        "same": MentorFactory(nom="Voisin", prenom="Victor", structure=m["a"], capacite=1),
    }


def test_a_campaign_is_reviewed_then_confirmed_and_only_then_sent(client, m, pools):
    client.force_login(m["delegue_a"])
    today = timezone.localdate()

    # Creation through the add form: the review page follows.
    response = client.post(
        CAMPAGNE_ADD,
        {
            "nom": "Printemps 2026",
            "structures": [m["a"].pk],
            "date_debut": today.isoformat(),
            "duree_mois": 9,
            "_save": "Enregistrer",
        },
    )
    campagne = Campagne.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("campagne_change", campagne.pk)
    assert campagne.creee_par == m["delegue_a"]
    assert campagne.statut == Campagne.Statut.BROUILLON
    page = text_of(client.get(url("campagne_change", campagne.pk)))
    assert "Aucune proposition calculée pour l'instant." in page
    assert "Calculer les propositions" in page
    assert "Confirmer et envoyer les propositions" not in page

    # Compute: proposals with their criteria, nothing sent, no relation yet.
    response = client.post(url("campagne_compute", campagne.pk), follow=True)
    assert response.status_code == 200
    page = text_of(response)
    assert "Propositions calculées : 2 binôme(s) proposé(s), 0 mentoré(s) sans mentor." in page
    budget_seeker, rh_seeker = pools["budget_seeker"], pools["rh_seeker"]
    first = Proposition.objects.get(mentore=budget_seeker)
    second = Proposition.objects.get(mentore=rh_seeker)
    assert first.mentor == pools["budget"] and second.mentor == pools["rh"]
    assert first.score == second.score == 120  # 100 + one domain (10) + experience (10)
    assert "Pilotage budgétaire" in page
    assert "Expertise demandée et offerte : 10 pts (Pilotage budgétaire)" in page
    assert "Mentoré accompagné : 100 pts" in page
    assert "Écart d'expérience : 10 pts (15 an(s) contre 2 (plafond 10))" in page
    assert "Score total optimal" in page and "240" in page
    assert "Mentors disponibles (avec une place libre)" in page
    assert "Recalculer les propositions" in page
    assert "Confirmer et envoyer les propositions" in page
    assert not Notification.objects.exists()
    assert not Mentorat.objects.exists()

    # Remove one: the mentee is listed without a proposal, with the reason.
    response = client.post(url("campagne_remove", campagne.pk, first.pk), follow=True)
    page = text_of(response)
    assert f"Proposition retirée : {budget_seeker.cadre} reste en liste d'attente." in page
    assert not Proposition.objects.filter(pk=first.pk).exists()
    motif = NonApparie.objects.get(campagne=campagne, mentore=budget_seeker).motif
    assert motif == "Proposition de Bérénice BUDGET retirée par le délégué."
    start = page.index('id="non-apparies"')
    assert str(budget_seeker.cadre) in page[start:] and motif in page[start:]

    # Swap: another mentor, the score and criteria recomputed.
    response = client.post(
        url("campagne_swap", campagne.pk, second.pk), {"mentor": pools["spare"].pk}, follow=True
    )
    page = text_of(response)
    assert f"Lucie LIBRE est désormais proposé(e) à {rh_seeker.cadre} (score 110)." in page
    second.refresh_from_db()
    assert second.mentor == pools["spare"] and second.score == 110
    assert second.modifiee_par == m["delegue_a"]
    expertise = next(c for c in second.criteres if c["code"] == "expertise")
    assert expertise["points"] == 0 and expertise["detail"] == "aucun domaine en commun"
    assert "Expertise demandée et offerte : 0 pt (aucun domaine en commun)" in page
    assert "Score total des propositions retenues" in page

    # Forbidden swaps: same branch as the mentee, or a mentor the mentee excluded.
    rh_seeker.mentors_exclus.add(pools["budget"])
    for mentor, reason in [
        (pools["same"], "même structure ou structure de la même branche"),
        (pools["budget"], "mentor écarté par le mentoré"),
    ]:
        response = client.post(
            url("campagne_swap", campagne.pk, second.pk), {"mentor": mentor.pk}, follow=True
        )
        assert messages_of(response) == [
            f"{mentor} ne peut pas être proposé à {rh_seeker} : {reason}."
        ]
        second.refresh_from_db()
        assert second.mentor == pools["spare"] and second.score == 110
    assert not Notification.objects.exists()

    # Confirm: the kept proposal only becomes a relation; a mail to each side.
    response = client.post(url("campagne_confirm", campagne.pk), follow=True)
    page = text_of(response)
    assert "Campagne confirmée : 1 proposition(s) envoyée(s) aux mentors et aux mentorés." in page
    relation = Mentorat.objects.get()
    assert relation.mentore == rh_seeker.cadre and relation.mentor == pools["spare"]
    assert relation.statut == S.PROPOSE and relation.campagne == campagne
    assert relation.score == 110
    sent = Notification.objects.filter(kind="mentorat_propose")
    assert sent.count() == Notification.objects.filter(kind__startswith="mentorat").count() == 2
    assert {n.email for n in sent} == {pools["spare"].email, rh_seeker.cadre.email}
    assert {n.context["side"] for n in sent} == {"mentor", "mentore"}
    rh_seeker.refresh_from_db()
    budget_seeker.refresh_from_db()
    assert rh_seeker.statut == Mentore.Statut.PROPOSE
    assert budget_seeker.statut == Mentore.Statut.EN_ATTENTE

    # Read-only afterwards: the relations created, no action left.
    for text in ("Recalculer", "Retirer", "Changer de mentor", "Confirmer et envoyer"):
        assert text not in page
    assert "Mentorats créés par la confirmation (1)" in page
    assert url("mentorat_change", relation.pk) in page
    for action in (
        url("campagne_confirm", campagne.pk),
        url("campagne_compute", campagne.pk),
        url("campagne_swap", campagne.pk, second.pk),
    ):
        response = client.post(action, {"mentor": pools["budget"].pk}, follow=True)
        assert messages_of(response) == [
            "Cette campagne est confirmée : ses propositions sont envoyées."
        ]
    assert Mentorat.objects.count() == 1
    assert Notification.objects.filter(kind="mentorat_propose").count() == 2
    second.refresh_from_db()
    assert second.mentor == pools["spare"]


def test_confirming_before_computing_is_refused(client, m, pools):
    campagne = campaign([m["a"]])
    client.force_login(m["delegue_a"])
    response = client.post(url("campagne_confirm", campagne.pk), follow=True)
    assert messages_of(response) == ["Calculez les propositions avant de confirmer la campagne."]
    assert not Mentorat.objects.exists()


def test_unmatched_mentees_are_listed_with_their_reason(client, m, domaines):
    mentee = waiting(m["a_srv"], [domaines["budget"]])
    MentorFactory(structure=m["a_dir"])  # in the mentee's branch: forbidden
    campagne = campaign([m["a"]])
    client.force_login(m["delegue_a"])
    page = text_of(client.post(url("campagne_compute", campagne.pk), follow=True))
    assert "0 binôme(s) proposé(s), 1 mentoré(s) sans mentor" in page
    assert str(mentee.cadre) in page
    assert "Aucun des 1 mentor(s) disponible(s) n'est possible" in page
    assert "Confirmer et envoyer les propositions" not in page


def test_campaign_actions_answer_only_to_post(client, m, pools):
    campagne = campaign([m["a"]])
    client.force_login(m["delegue_a"])
    assert client.get(url("campagne_compute", campagne.pk)).status_code == 405
    assert client.post(url("campagne_change", campagne.pk)).status_code == 405
    assert not Proposition.objects.exists()


def test_swap_picker_offers_visible_active_mentors_only(client, m, pools):
    inactive = MentorFactory(structure=m["a_dir2"], actif=False)
    other = MentorFactory(structure=m["b"])
    client.force_login(m["delegue_a"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "mentorat", "model_name": "proposition", "field_name": "mentor", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert ids == {pools[k].pk for k in ("budget", "rh", "spare", "same")}
    assert inactive.pk not in ids and other.pk not in ids
    # A forged post with such a mentor is refused before the service.
    campagne = campaign([m["a"]])
    services.compute(campagne)
    proposition = Proposition.objects.first()
    for mentor in (inactive, other):
        response = client.post(
            url("campagne_swap", campagne.pk, proposition.pk), {"mentor": mentor.pk}, follow=True
        )
        assert messages_of(response) == [
            "Ce mentor n'est pas proposable : choisissez un mentor actif de votre périmètre "
            "ou du vivier commun."
        ]
    assert Proposition.objects.get(pk=proposition.pk).mentor == proposition.mentor


def test_a_reader_without_the_change_permission_gets_no_action(client, m, pools):
    campagne = campaign([m["a"]])
    services.compute(campagne)
    reader = make_delegue(m["a"])
    reader.groups.clear()
    reader.user_permissions.add(Permission.objects.get(codename="view_campagne"))
    client.force_login(reader)
    page = text_of(client.get(url("campagne_change", campagne.pk)))
    assert "Propositions (2)" in page
    assert "Confirmer et envoyer" not in page and "Retirer" not in page
    assert client.post(url("campagne_compute", campagne.pk)).status_code == 403
    assert client.post(url("campagne_confirm", campagne.pk)).status_code == 403
    assert not Mentorat.objects.exists()


# --- Perimeters ----------------------------------------------------------------------


def test_another_ministry_s_delegue_sees_none_of_it(client, m, pools):
    campagne = campaign([m["a"]], user=m["delegue_a"])
    services.compute(campagne)
    proposition = Proposition.objects.first()
    relation = MentoratFactory(mentore=m["cadre_a"], mentor=pools["budget"], statut=S.EN_COURS)
    mentore = pools["budget_seeker"]
    shared = pools["rh"]  # attached to no structure: the shared pool

    client.force_login(m["delegue_b"])
    for page_url in (
        url("campagne_change", campagne.pk),
        url("mentore_change", mentore.pk),
        url("mentorat_change", relation.pk),
        url("mentor_change", pools["budget"].pk),
    ):
        assert client.get(page_url).status_code == 404, page_url
    for action in (
        url("campagne_compute", campagne.pk),
        url("campagne_confirm", campagne.pk),
        url("campagne_remove", campagne.pk, proposition.pk),
        url("campagne_swap", campagne.pk, proposition.pk),
    ):
        assert client.post(action, {"mentor": shared.pk}).status_code == 404, action
    assert Proposition.objects.filter(pk=proposition.pk).exists()
    assert not Mentorat.objects.filter(campagne=campagne).exists()

    assert list(client.get(CAMPAGNE_LIST).context["cl"].result_list) == []
    assert list(client.get(MENTORE_LIST).context["cl"].result_list) == []
    assert list(client.get(MENTORAT_LIST).context["cl"].result_list) == []
    assert list(client.get(MENTOR_LIST).context["cl"].result_list) == [shared]
    assert client.get(url("mentor_change", shared.pk)).status_code == 200

    client.force_login(m["delegue_a"])
    assert list(client.get(CAMPAGNE_LIST).context["cl"].result_list) == [campagne]
    assert set(client.get(MENTORE_LIST).context["cl"].result_list) == {
        pools["budget_seeker"],
        pools["rh_seeker"],
    }
    assert list(client.get(MENTORAT_LIST).context["cl"].result_list) == [relation]
    assert client.get(url("mentorat_change", relation.pk)).status_code == 200


def test_a_campaign_is_visible_only_when_all_its_structures_are_inside(client, m):
    both = campaign([m["a_dir"], m["b"]])
    inside = campaign([m["a_dir"], m["a_srv"]])
    client.force_login(m["delegue_a"])
    assert list(client.get(CAMPAGNE_LIST).context["cl"].result_list) == [inside]
    assert client.get(url("campagne_change", both.pk)).status_code == 404
    client.force_login(m["admin"])
    assert set(client.get(CAMPAGNE_LIST).context["cl"].result_list) == {both, inside}
    assert client.get(url("campagne_change", both.pk)).status_code == 200


def test_the_add_form_refuses_a_structure_outside_the_perimeter(client, m):
    client.force_login(m["delegue_a"])
    response = client.post(
        CAMPAGNE_ADD,
        {
            "nom": "Hors périmètre",
            "structures": [m["a"].pk, m["b"].pk],
            "date_debut": timezone.localdate().isoformat(),
            "duree_mois": 9,
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 200
    assert "structures" in response.context["adminform"].form.errors
    assert "Sélectionnez un choix valide" in text_of(response)
    assert not Campagne.objects.exists()
    choices = response.context["adminform"].form.fields["structures"].queryset
    assert m["b"] not in choices and m["a_srv"] in choices


def test_campaign_length_is_bounded(client, m):
    client.force_login(m["delegue_a"])
    response = client.post(
        CAMPAGNE_ADD,
        {
            "nom": "Trop longue",
            "structures": [m["a"].pk],
            "date_debut": timezone.localdate().isoformat(),
            "duree_mois": 18,
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 200
    assert "duree_mois" in response.context["adminform"].form.errors
    assert not Campagne.objects.exists()


# --- Mentor pool -----------------------------------------------------------------------


def test_mentor_list_shows_load_window_and_domains(client, m, domaines):
    busy = MentorFactory(
        nom="Occupée",
        structure=m["a_dir2"],
        ville="Lyon",
        capacite=2,
        domaines=[domaines["budget"]],
        disponible_du=timezone.localdate() - timedelta(days=30),
        disponible_au=timezone.localdate() + timedelta(days=300),
    )
    for statut in (S.PROPOSE, S.EN_COURS, S.TERMINE, S.DECLINE):
        MentoratFactory(mentor=busy, statut=statut)
    full = MentorFactory(nom="Complète", capacite=1)
    MentoratFactory(mentor=full, statut=S.ACCEPTE)
    client.force_login(m["delegue_a"])
    response = client.get(MENTOR_LIST)
    rows = {r.pk: r for r in response.context["cl"].result_list}
    assert rows[busy.pk].charge == 2 and rows[full.pk].charge == 1
    page = text_of(response)
    assert "Charge / capacité" in page
    assert "2 / 2 (complet)" in page and "1 / 1 (complet)" in page
    assert "Pilotage budgétaire" in page and "Lyon" in page
    debut, fin = busy.disponible_du, busy.disponible_au
    assert f"du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}" in page
    assert "sans limite" in page


def test_mentor_list_filters_and_searches(client, m, domaines):
    active = MentorFactory(nom="Actif", domaines=[domaines["rh"]])
    inactive = MentorFactory(nom="Retraité", actif=False)
    client.force_login(m["delegue_a"])
    response = client.get(MENTOR_LIST, {"actif__exact": "0"})
    assert list(response.context["cl"].result_list) == [inactive]
    response = client.get(MENTOR_LIST, {"domaines__id__exact": domaines["rh"].pk})
    assert list(response.context["cl"].result_list) == [active]
    response = client.get(MENTOR_LIST, {"q": "retraité"})
    assert list(response.context["cl"].result_list) == [inactive]


def test_delegue_adds_a_mentor_inside_their_perimeter_only(client, m, domaines):
    client.force_login(m["delegue_a"])
    data = {
        "civilite": "m",
        "nom": "Nouveau",
        "prenom": "Noé",
        "email": "Noe.Nouveau@Example.gouv.fr",
        "fonction": "Directeur honoraire",
        "structure": m["b"].pk,
        "ville": "Paris",
        "annees_experience": 20,
        "domaines": [domaines["budget"].pk],
        "langues": "français",
        "capacite": 2,
        "actif": "on",
        "_save": "Enregistrer",
    }
    response = client.post(url("mentor_add"), data)
    assert response.status_code == 200
    assert "structure" in response.context["adminform"].form.errors
    assert not Mentor.objects.exists()
    response = client.post(url("mentor_add"), {**data, "structure": m["a_dir2"].pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    mentor = Mentor.objects.get()
    assert mentor.email == "noe.nouveau@example.gouv.fr" and mentor.structure == m["a_dir2"]
    assert mentor.user is None  # délégués do not link accounts


# --- Waiting list ----------------------------------------------------------------------


def test_waiting_list_shows_needs_and_waiting_time(client, m, domaines):
    mentee = waiting(m["a_srv"], [domaines["budget"]], motif_attente="Aucun mentor à Lyon.")
    noon = datetime.combine(timezone.localdate() - timedelta(days=40), time(12))
    Mentore.objects.filter(pk=mentee.pk).update(en_attente_depuis=timezone.make_aware(noon))
    accompanied = waiting(m["a_dir"], statut=Mentore.Statut.ACCOMPAGNE)
    client.force_login(m["delegue_a"])
    response = client.get(MENTORE_LIST)
    page = text_of(response)
    assert "(40 jours)" in page
    assert "Pilotage budgétaire" in page and "Aucun mentor à Lyon." in page
    assert "Prise de poste" in page and "En attente d'un mentor" in page
    response = client.get(MENTORE_LIST, {"statut__exact": "en_attente"})
    assert list(response.context["cl"].result_list) == [mentee]
    response = client.get(MENTORE_LIST, {"statut__exact": "accompagne"})
    assert list(response.context["cl"].result_list) == [accompanied]


def test_needs_and_wishes_are_edited_with_visible_mentors_only(client, m, domaines):
    mentee = waiting(m["a_srv"], [domaines["budget"]])
    wished = MentorFactory(structure=m["a_dir2"])
    shared = MentorFactory()
    hidden = MentorFactory(structure=m["b"])
    mentee.mentors_exclus.add(hidden)  # recorded elsewhere (the portal, another délégué)
    client.force_login(m["delegue_a"])
    response = client.get(url("mentore_change", mentee.pk))
    form = response.context["adminform"].form
    for name in ("mentors_souhaites", "mentors_exclus"):
        offered = set(form.fields[name].queryset)
        assert wished in offered and shared in offered and hidden not in offered
    assert "statut" not in form.fields  # follows the campaigns
    response = client.post(
        url("mentore_change", mentee.pk),
        {
            "contexte": "vivier",
            "objectifs": "Prendre une direction.",
            "annees_experience": 3,
            "ville": "Lyon",
            "mode_souhaite": "presentiel",
            "besoins": [domaines["budget"].pk, domaines["rh"].pk],
            "mentors_souhaites": [wished.pk],
            "mentors_exclus": [shared.pk],
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    mentee.refresh_from_db()
    assert mentee.contexte == "vivier" and mentee.ville == "Lyon"
    assert set(mentee.besoins.all()) == set(domaines.values())
    assert list(mentee.mentors_souhaites.all()) == [wished]
    assert set(mentee.mentors_exclus.all()) == {shared, hidden}  # the hidden one is kept


def test_a_forged_wish_for_a_hidden_mentor_is_refused(client, m):
    mentee = waiting(m["a_srv"])
    hidden = MentorFactory(structure=m["b"])
    client.force_login(m["delegue_a"])
    response = client.post(
        url("mentore_change", mentee.pk),
        {
            "contexte": "vivier",
            "annees_experience": 3,
            "mode_souhaite": "indifferent",
            "mentors_souhaites": [hidden.pk],
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 200
    assert "mentors_souhaites" in response.context["adminform"].form.errors
    assert not mentee.mentors_souhaites.exists()


# --- Referential and permissions ---------------------------------------------------------


def test_domains_are_edited_by_administrators_and_read_by_delegues(client, m, domaines):
    client.force_login(m["delegue_a"])
    assert client.get(reverse("admin:mentorat_domaine_changelist")).status_code == 200
    assert client.get(url("domaine_add")).status_code == 403
    response = client.post(
        url("domaine_change", domaines["rh"].pk),
        {"code": "rh", "libelle": "Renommé", "_save": "Enregistrer"},
    )
    assert response.status_code == 403
    assert Domaine.objects.get(pk=domaines["rh"].pk).libelle == "Management des équipes"
    client.force_login(m["admin"])
    response = client.post(
        url("domaine_add"), {"code": "numerique", "libelle": "Numérique", "_save": "Enregistrer"}
    )
    assert response.status_code == 302
    assert Domaine.objects.filter(code="numerique").exists()


def test_delegues_have_the_mentoring_permissions(m):
    group = Group.objects.get(name=DELEGUES_GROUP)
    assert m["delegue_a"].groups.filter(pk=group.pk).exists()
    delegue = m["delegue_a"]
    for model in ("mentor", "mentore", "campagne", "mentorat"):
        assert delegue.has_perm(f"mentorat.view_{model}")
        assert delegue.has_perm(f"mentorat.change_{model}")
    assert delegue.has_perm("mentorat.view_domaine")
    assert not delegue.has_perm("mentorat.change_domaine")
    assert not delegue.has_perm("mentorat.delete_mentorat")
    # Private notes are their author's alone: no permission at all on them.
    for label in ("mentorat.view_noteprivee", "mentorat.change_noteprivee"):
        assert not delegue.has_perm(label)
    assert not delegue.has_perm("coaching.view_notecoach")


# --- Relations -----------------------------------------------------------------------


def form_data(mentorat, **overrides):
    """The change form as the browser posts it (the meetings inline is read-only)."""
    rencontres = mentorat.rencontres.count()
    data = {
        "contexte": mentorat.contexte,
        "objectifs": mentorat.objectifs,
        "date_debut": mentorat.date_debut.isoformat(),
        "date_fin_prevue": mentorat.date_fin_prevue.isoformat(),
        "statut": mentorat.statut,
        "motif_fin": mentorat.motif_fin,
        "rencontres-TOTAL_FORMS": rencontres,
        "rencontres-INITIAL_FORMS": rencontres,
        "rencontres-MIN_NUM_FORMS": 0,
        "rencontres-MAX_NUM_FORMS": 1000,
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return data


@pytest.fixture
def running(m):
    """A relation under way in ministry A, both sides with an account."""
    return MentoratFactory(
        mentore=make_cadre_user(structure=m["a_srv"], nom="Durand"),
        mentor=MentorFactory(user=UserFactory()),
        statut=S.EN_COURS,
        date_debut=timezone.localdate() - timedelta(days=30),
        date_fin_prevue=timezone.localdate() + timedelta(days=240),
    )


def meeting(mentorat, days_ago, statut=Session.Statut.REALISEE, **kwargs):
    return Rencontre.objects.create(
        mentorat=mentorat,
        debut=timezone.now() - timedelta(days=days_ago),
        duree=60,
        mode="distanciel",
        statut=statut,
        **kwargs,
    )


def test_an_illegal_transition_shows_the_french_error(client, m):
    proposed = MentoratFactory(mentore=m["cadre_a"])
    client.force_login(m["delegue_a"])
    for statut, field, message in [
        (S.TERMINE, "statut", "Un mentorat « proposé » ne peut pas passer au statut « terminé »."),
        (
            S.ACCEPTE,
            "statut",
            "Un mentorat est accepté quand mentor et mentoré ont accepté la charte.",
        ),
        (S.DECLINE, "statut", "Une proposition se décline depuis l'espace personnel."),
    ]:
        response = client.post(
            url("mentorat_change", proposed.pk), form_data(proposed, statut=statut)
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors[field] == [message]
        assert message in text_of(response)
        proposed.refresh_from_db()
        assert proposed.statut == S.PROPOSE


def test_interrupting_needs_a_reason(client, m, running):
    planned = meeting(running, -7, Session.Statut.PLANIFIEE)
    client.force_login(m["delegue_a"])
    response = client.post(
        url("mentorat_change", running.pk), form_data(running, statut=S.INTERROMPU, objectifs="x")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["motif_fin"] == [
        "Indiquez le motif de l'interruption."
    ]
    running.refresh_from_db()
    assert running.statut == S.EN_COURS and running.objectifs == "" and running.date_fin is None
    response = client.post(
        url("mentorat_change", running.pk),
        form_data(running, statut=S.INTERROMPU, motif_fin="Mutation du mentor à l'étranger."),
        follow=True,
    )
    assert response.status_code == 200
    assert "les rencontres planifiées sont annulées" in text_of(response)
    running.refresh_from_db()
    assert running.statut == S.INTERROMPU
    assert running.motif_fin == "Mutation du mentor à l'étranger."
    assert running.date_fin == timezone.localdate()
    planned.refresh_from_db()
    assert planned.statut == Session.Statut.ANNULEE


def test_ending_a_relation_asks_for_evaluations(client, m, running):
    client.force_login(m["delegue_a"])
    response = client.post(
        url("mentorat_change", running.pk), form_data(running, statut=S.TERMINE), follow=True
    )
    assert "l'évaluation de fin de parcours est demandée" in text_of(response)
    running.refresh_from_db()
    assert running.statut == S.TERMINE
    participants = set(Evaluation.objects.values_list("participant", flat=True))
    assert participants == {running.mentor.user_id, running.mentore.user_id}


def test_dates_are_checked_and_the_charter_is_read_only(client, m, running):
    client.force_login(m["delegue_a"])
    too_long = (running.date_debut + timedelta(days=500)).isoformat()
    response = client.post(
        url("mentorat_change", running.pk), form_data(running, date_fin_prevue=too_long)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date_fin_prevue"] == [
        "Un mentorat dure de 6 à 12 mois : ajustez la fin prévue."
    ]
    form = client.get(url("mentorat_change", running.pk)).context["adminform"].form
    assert "charte_mentor_le" not in form.fields and "charte_mentore_le" not in form.fields
    response = client.post(
        url("mentorat_change", running.pk),
        form_data(running, charte_mentor_le="2020-01-01 10:00", objectifs="Prendre du recul."),
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.charte_mentor_le is None and running.objectifs == "Prendre du recul."


def test_relations_cannot_be_added_by_hand(client, m):
    client.force_login(m["admin"])
    assert client.get(url("mentorat_add")).status_code == 403


def test_relation_list_flags_relations_without_a_meeting_for_8_weeks(client, m):
    old_start = timezone.localdate() - timedelta(weeks=12)
    silent = MentoratFactory(mentore=m["cadre_a"], statut=S.EN_COURS, date_debut=old_start)
    meeting(silent, 70)  # ten weeks ago
    meeting(silent, 3, Session.Statut.ANNULEE)  # cancelled: does not count
    lively = MentoratFactory(
        mentore=CadreFactory(structure=m["a_dir"]), statut=S.EN_COURS, date_debut=old_start
    )
    meeting(lively, 70)
    meeting(lively, 7)
    meeting(lively, 14)
    ended = MentoratFactory(
        mentore=CadreFactory(structure=m["a_dir"]), statut=S.TERMINE, date_debut=old_start
    )
    client.force_login(m["delegue_a"])
    response = client.get(MENTORAT_LIST)
    rows = {r.pk: r for r in response.context["cl"].result_list}
    assert rows[silent.pk].silencieux and not rows[lively.pk].silencieux
    assert not rows[ended.pk].silencieux
    assert rows[silent.pk].tenues == 1 and rows[lively.pk].tenues == 3
    assert set(services.silent_relations()) == {silent}  # the same rule
    page = text_of(response)
    assert "Sans rencontre depuis 8 semaines" in page
    last = timezone.localtime(timezone.now() - timedelta(days=7)).date()
    assert f"{last:%d/%m/%Y}" in page
    response = client.get(MENTORAT_LIST, {"silence": "oui"})
    assert list(response.context["cl"].result_list) == [silent]
    response = client.get(MENTORAT_LIST, {"silence": "non"})
    assert set(response.context["cl"].result_list) == {lively, ended}


def test_meetings_inline_shows_dates_and_attendance_only(client, m, running):
    held = meeting(running, 10, lieu="Café confidentiel", lien_visio="https://visio.example.fr/x")
    client.force_login(m["delegue_a"])
    response = client.get(url("mentorat_change", running.pk))
    page = text_of(response)
    assert "Rencontres (dates et présence)" in page
    assert "Réalisée" in page and "Distanciel" in page
    assert "Café confidentiel" not in page and "visio.example.fr" not in page
    assert 'name="rencontres-0-statut"' not in page
    client.post(
        url("mentorat_change", running.pk),
        form_data(running, **{"rencontres-0-id": held.pk, "rencontres-0-statut": "annulee"}),
    )
    held.refresh_from_db()
    assert held.statut == Session.Statut.REALISEE


# --- Private notes -----------------------------------------------------------------------


def test_private_notes_have_no_admin_url():
    assert not admin.site.is_registered(NotePrivee)
    for name in ("changelist", "add"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:mentorat_noteprivee_{name}")
    with pytest.raises(NoReverseMatch):
        reverse("admin:mentorat_noteprivee_change", args=[1])


def test_no_admin_page_shows_a_private_note(client, m, running):
    held = meeting(running, 10)
    secret = "NOTE-SECRETE : mon mentoré envisage de quitter son poste."
    NotePrivee.objects.create(rencontre=held, auteur=running.mentor.user, texte=secret)
    for staff in (m["admin"], m["delegue_a"]):
        client.force_login(staff)
        for page_url in (
            url("mentorat_change", running.pk),
            MENTORAT_LIST,
            url("mentorat_history", running.pk),
            reverse("admin:index"),
            reverse("admin:app_list", args=["mentorat"]),
        ):
            response = client.get(page_url)
            assert response.status_code == 200, page_url
            page = text_of(response)
            assert "NOTE-SECRETE" not in page, page_url
            assert "quitter son poste" not in page, page_url
            assert "notes privées" not in page.lower(), page_url
        response = client.get(reverse("admin:mentorat_mentorat_export_csv"))
        assert response.status_code == 200
        body = csv_text(response)
        assert str(running.mentore) in body
        assert "NOTE-SECRETE" not in body


# --- Constant queries ----------------------------------------------------------------


def count_queries(client, page_url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url)
    assert response.status_code == 200
    return len(queries)


def make_rows(n, m, domaines):
    """``n`` of everything in ministry A: mentors with domains and a relation holding
    a place (with meetings), waiting mentees with needs and wishes."""
    for _ in range(n):
        mentor = MentorFactory(structure=m["a_dir2"], domaines=list(domaines.values()))
        relation = MentoratFactory(
            mentor=mentor, mentore=CadreFactory(structure=m["a_srv"]), statut=S.EN_COURS
        )
        meeting(relation, 5)
        mentee = waiting(m["a_srv"], list(domaines.values()))
        mentee.mentors_souhaites.add(mentor)


@pytest.mark.parametrize("page_url", [MENTOR_LIST, MENTORE_LIST, MENTORAT_LIST])
def test_lists_queries_do_not_grow_with_rows(client, m, domaines, page_url):
    client.force_login(m["delegue_a"])
    make_rows(2, m, domaines)
    few = count_queries(client, page_url)
    make_rows(18, m, domaines)
    many = count_queries(client, page_url)
    assert len(client.get(page_url).context["cl"].result_list) >= 20
    assert few == many


def test_review_page_queries_do_not_grow_with_proposals(client, m, domaines):
    campagne = campaign([m["a"]])
    client.force_login(m["delegue_a"])

    def review():
        services.compute(campagne)
        return count_queries(client, url("campagne_change", campagne.pk))

    make_rows(2, m, domaines)
    waiting(m["a_srv"])  # and one without a mentor (every mentor full)
    few = review()
    make_rows(18, m, domaines)
    many = review()
    assert campagne.propositions.count() == 20 and campagne.non_apparies.count() == 1
    assert few == many
    services.confirm(campagne)
    confirmed = count_queries(client, url("campagne_change", campagne.pk))
    make_rows(1, m, domaines)  # the confirmed page lists relations: still bounded
    assert count_queries(client, url("campagne_change", campagne.pk)) == confirmed
