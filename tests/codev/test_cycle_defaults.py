"""Cycle defaults (issue 14, point 2): by default a cycle has as many séances as members,
so that each is client once; a séance every 2 to 6 weeks over 6 to 12 months, and
outside that frame the animateur (or the délégué in the admin) confirms explicitly."""

import html
from collections import Counter
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import Groupe
from tests.factories import GroupeFactory, StructureFactory, UserFactory, make_cadre_user

pytestmark = pytest.mark.django_db

CREATE = reverse("codev:groupe_create")
MINUTES = {
    "ouverture": 10,
    "expose": 10,
    "clarification": 15,
    "contrat": 5,
    "exploration": 40,
    "synthese": 20,
    "apprentissage": 20,
}
CONFIRM = "Cochez la case pour confirmer ce calendrier, ou modifiez-le."


@pytest.fixture(autouse=True)
def reminders(settings):
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


def text(response):
    return html.unescape(response.content.decode())


def make_animateur():
    user = UserFactory()
    grant_role(user, Role.Kind.ANIMATEUR)
    return user


def create_data(structure, months=8, rythme=3, **overrides):
    start = timezone.localdate() + timedelta(days=10)
    data = {
        "nom": "Codev des nouveaux directeurs",
        "structure": structure.pk,
        "animation": "interne",
        "mode": "presentiel",
        "date_debut": start.isoformat(),
        "date_fin": (start + relativedelta(months=months)).isoformat(),
        "rythme_semaines": str(rythme),
        "heure": "09:30",
        "duree": "120",
        **{f"duree_{k}": str(v) for k, v in MINUTES.items()},
    }
    data.update(overrides)
    return data


# --- As many séances as members ----------------------------------------------------


@pytest.mark.parametrize("size", [2, 5, 8])
def test_by_default_the_cycle_has_one_seance_per_member_each_client_once(size):
    groupe = GroupeFactory(nb_seances_cible=None)
    membres = [services.add_member(groupe, make_cadre_user()) for _ in range(size)]
    seances = services.generate_cycle(groupe)
    assert len(seances) == size
    assert Counter(s.client_id for s in seances) == Counter({m.pk: 1 for m in membres})


def test_a_target_given_by_the_animateur_wins():
    groupe = GroupeFactory(nb_seances_cible=3)
    for _ in range(5):
        services.add_member(groupe, make_cadre_user())
    assert len(services.generate_cycle(groupe)) == 3


def test_a_new_group_has_no_target_and_the_page_says_so(client):
    animateur = make_animateur()
    client.force_login(animateur)
    response = client.post(CREATE, create_data(StructureFactory()))
    assert response.status_code == 302
    groupe = Groupe.objects.get()
    assert groupe.nb_seances_cible is None
    body = text(client.get(groupe.get_absolute_url()))
    assert "autant de séances que de membres" in body
    assert "Le cycle comptera autant de séances que de membres : ajoutez-les d'abord." in body
    for _ in range(4):
        services.add_member(groupe, make_cadre_user())
    body = text(client.get(groupe.get_absolute_url()))
    assert "Le cycle comptera 4 séances" in body


def test_the_preview_warns_when_the_period_is_too_short_for_everyone(client):
    animateur = make_animateur()
    start = date.today() + timedelta(days=30)
    groupe = GroupeFactory(
        animateur=animateur,
        nb_seances_cible=None,
        date_debut=start,
        date_fin=start + timedelta(weeks=7),
        rythme_semaines=3,
    )
    for _ in range(6):
        services.add_member(groupe, make_cadre_user())
    client.force_login(animateur)
    body = text(client.get(groupe.get_absolute_url()))
    assert (
        "La période ne permet que 3 séances pour 6 membres : certains ne seront pas client." in body
    )


# --- The usual frame, or an explicit confirmation -------------------------------------


@pytest.mark.parametrize(
    ("months", "rythme", "expected"),
    [
        (
            8,
            8,
            "Une séance toutes les 8 semaines : le rythme habituel est d'une séance toutes "
            "les 2 à 6 semaines.",
        ),
        (
            8,
            1,
            "Une séance chaque semaine : le rythme habituel est d'une séance toutes les 2 à 6 "
            "semaines.",
        ),
        (5, 3, "Un cycle de moins de 6 mois : il dure d'habitude 6 à 12 mois."),
        (13, 3, "Un cycle de plus de 12 mois : il dure d'habitude 6 à 12 mois."),
    ],
)
def test_outside_the_usual_frame_the_animateur_confirms(client, months, rythme, expected):
    client.force_login(make_animateur())
    structure = StructureFactory()
    response = client.post(CREATE, create_data(structure, months, rythme))
    assert response.status_code == 200
    assert response.context["form"].errors["confirmer_cycle"] == [expected, CONFIRM]
    assert expected in text(response)
    assert not Groupe.objects.exists()

    response = client.post(CREATE, create_data(structure, months, rythme, confirmer_cycle="on"))
    assert response.status_code == 302
    assert Groupe.objects.get().rythme_semaines == rythme


@pytest.mark.parametrize(("months", "rythme"), [(6, 2), (12, 6), (8, 3)])
def test_inside_the_frame_nothing_to_confirm(client, months, rythme):
    client.force_login(make_animateur())
    response = client.post(CREATE, create_data(StructureFactory(), months, rythme))
    assert response.status_code == 302


def test_hard_limits_stay_refused_even_when_confirmed(client):
    client.force_login(make_animateur())
    data = create_data(StructureFactory(), 8, 13, confirmer_cycle="on")
    response = client.post(CREATE, data)
    assert "rythme_semaines" in response.context["form"].errors
    assert not Groupe.objects.exists()


def test_editing_something_else_does_not_ask_again(client):
    animateur = make_animateur()
    client.force_login(animateur)
    structure = StructureFactory()
    client.post(CREATE, create_data(structure, 8, 8, confirmer_cycle="on"))
    groupe = Groupe.objects.get()
    url = reverse("codev:groupe_edit", args=[groupe.pk])
    data = create_data(structure, 8, 8, nom="Codev renommé")
    data["date_debut"], data["date_fin"] = (
        groupe.date_debut.isoformat(),
        groupe.date_fin.isoformat(),
    )
    assert client.post(url, data).status_code == 302
    groupe.refresh_from_db()
    assert groupe.nom == "Codev renommé"
    # Changing the rhythm again, still outside the frame: confirm again.
    response = client.post(url, {**data, "rythme_semaines": "9"})
    assert response.context["form"].errors["confirmer_cycle"][-1] == CONFIRM
    groupe.refresh_from_db()
    assert groupe.rythme_semaines == 8


def test_the_admin_asks_for_the_same_confirmation(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    lead = make_animateur()
    start = timezone.localdate() + timedelta(days=10)
    data = {
        "nom": "Groupe du délégué",
        "structure": m["a_dir"].pk,
        "animateur": lead.pk,
        "animation": "interne",
        "mode": "presentiel",
        "date_debut": start.isoformat(),
        "date_fin": (start + timedelta(days=90)).isoformat(),
        "rythme_semaines": 3,
        "heure": "14:00",
        "duree": 120,
        **{f"duree_{k}": v for k, v in MINUTES.items()},
        "membres-TOTAL_FORMS": 0,
        "membres-INITIAL_FORMS": 0,
        "membres-MIN_NUM_FORMS": 0,
        "membres-MAX_NUM_FORMS": 1000,
        "seances-TOTAL_FORMS": 0,
        "seances-INITIAL_FORMS": 0,
        "seances-MIN_NUM_FORMS": 0,
        "seances-MAX_NUM_FORMS": 1000,
        "_save": "Enregistrer",
    }
    add = reverse("admin:codev_groupe_add")
    response = client.post(add, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["confirmer_cycle"] == [
        "Un cycle de moins de 6 mois : il dure d'habitude 6 à 12 mois.",
        CONFIRM,
    ]
    assert not Groupe.objects.exists()
    assert client.post(add, {**data, "confirmer_cycle": "on"}).status_code == 302
    assert Groupe.objects.get().nom == "Groupe du délégué"
