"""The session allowance (issue 13, point 3): the planned number of sessions is an
allowance; portal and admin show used / left; scheduling past it is refused unless a
délégué records an extension (the reason and the new total)."""

import html
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Mode
from coaching import services
from coaching.models import Coaching, ExtensionForfait, SeanceCoaching
from tests.factories import CoachFactory, CoachingFactory, UserFactory, make_cadre_user

pytestmark = pytest.mark.django_db

S = Coaching.Statut


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def coaching(m):
    cadre = make_cadre_user(structure=m["a_srv"])
    coach = CoachFactory(user=UserFactory())
    coaching = services.assign(CoachingFactory(cadre=cadre), coach)
    Coaching.objects.filter(pk=coaching.pk).update(nb_seances_prevues=2)
    coaching.refresh_from_db()
    return coaching


def schedule(coaching, days):
    moment = (timezone.localtime() + timedelta(days=days)).replace(hour=10, minute=0)
    return services.schedule(coaching, debut=moment, mode=Mode.PRESENTIEL, lieu="Salle 1")


def text_of(response):
    return html.unescape(response.content.decode())


def test_allowance_counts_held_and_planned_not_cancelled(coaching):
    first, second = schedule(coaching, 3), schedule(coaching, 10)
    SeanceCoaching.objects.filter(pk=first.pk).update(statut=SeanceCoaching.Statut.REALISEE)
    allowance = coaching.allowance()
    assert (allowance.utilisees, allowance.restantes) == (2, 0)
    services.mark(second, SeanceCoaching.Statut.ANNULEE)
    allowance = coaching.allowance()
    assert (allowance.realisees, allowance.planifiees, allowance.restantes) == (1, 0, 1)


def test_past_the_allowance_only_an_extension_opens_a_session(m, coaching):
    schedule(coaching, 3)
    schedule(coaching, 10)
    with pytest.raises(ValidationError) as excinfo:
        schedule(coaching, 17)
    assert excinfo.value.messages == [
        "Les 2 séances du forfait sont toutes utilisées (réalisées ou planifiées) : une "
        "séance de plus demande que le délégué prolonge le forfait."
    ]

    extension = services.extend_allowance(
        coaching, 4, "  Nouvelle prise de poste en cours d'accompagnement.  ", by=m["delegue_a"]
    )

    assert (extension.ancien_total, extension.nouveau_total) == (2, 4)
    assert extension.motif == "Nouvelle prise de poste en cours d'accompagnement."
    assert extension.accordee_par == m["delegue_a"]
    coaching.refresh_from_db()
    assert coaching.nb_seances_prevues == 4
    assert schedule(coaching, 17).numero == 3
    assert schedule(coaching, 24).numero == 4
    with pytest.raises(ValidationError):
        schedule(coaching, 31)


@pytest.mark.parametrize(
    "total, motif, errors",
    [
        (
            2,
            "Raison.",
            {"nouveau_total": ["Le nouveau total doit dépasser les 2 séances du forfait actuel."]},
        ),
        (
            1,
            "Raison.",
            {"nouveau_total": ["Le nouveau total doit dépasser les 2 séances du forfait actuel."]},
        ),
        (21, "Raison.", {"nouveau_total": ["Un coaching compte au plus 20 séances."]}),
        (4, "  ", {"motif": ["Indiquez la raison de la prolongation."]}),
    ],
)
def test_extension_refusals_change_nothing(m, coaching, total, motif, errors):
    with pytest.raises(ValidationError) as excinfo:
        services.extend_allowance(coaching, total, motif, by=m["delegue_a"])
    assert excinfo.value.message_dict == errors
    coaching.refresh_from_db()
    assert coaching.nb_seances_prevues == 2
    assert not ExtensionForfait.objects.exists()


@pytest.mark.parametrize("statut", [S.A_AFFECTER, S.TERMINE, S.INTERROMPU])
def test_only_a_running_engagement_is_extended(m, statut):
    coaching = CoachingFactory(statut=statut)
    with pytest.raises(ValidationError) as excinfo:
        services.extend_allowance(coaching, 8, "Raison.", by=m["delegue_a"])
    assert excinfo.value.messages == [
        "Seul le forfait d'un coaching contractualisé ou en cours se prolonge."
    ]


# --- Admin ------------------------------------------------------------------------


def forfait_url(coaching):
    return reverse("admin:coaching_coaching_forfait", args=[coaching.pk])


def test_delegue_extends_the_allowance_in_the_admin(client, m, coaching):
    schedule(coaching, 3)
    client.force_login(m["delegue_a"])
    change = reverse("admin:coaching_coaching_change", args=[coaching.pk])
    page = text_of(client.get(change))
    assert "1 / 2</strong> séances utilisées" in page and "Prolonger le forfait" in page

    response = client.post(forfait_url(coaching), {"nouveau_total": "2", "motif": "Raison."})
    assert response.status_code == 200
    assert "Le nouveau total doit dépasser les 2 séances du forfait actuel." in text_of(response)
    response = client.post(forfait_url(coaching), {"nouveau_total": "5", "motif": ""})
    assert response.status_code == 200 and not ExtensionForfait.objects.exists()

    response = client.post(
        forfait_url(coaching), {"nouveau_total": "5", "motif": "Objectifs élargis."}
    )
    assert response.status_code == 302
    coaching.refresh_from_db()
    assert coaching.nb_seances_prevues == 5
    page = text_of(client.get(change))
    assert "1 / 5</strong> séances utilisées" in page
    assert "2 → 5 séances" in page and "Objectifs élargis." in page
    listed = text_of(client.get(reverse("admin:coaching_coaching_changelist")))
    assert "1 / 5 (4 restante(s))" in listed


def test_a_contracted_allowance_is_not_edited_in_the_form(client, m, coaching):
    from tests.coaching.test_admin import form_data

    client.force_login(m["delegue_a"])
    change = reverse("admin:coaching_coaching_change", args=[coaching.pk])
    response = client.post(change, form_data(coaching, nb_seances_prevues=12))
    assert response.status_code == 302
    coaching.refresh_from_db()
    assert coaching.nb_seances_prevues == 2  # only through a recorded extension


def test_extension_page_is_inside_the_perimeter(client, m, coaching):
    client.force_login(m["delegue_b"])
    assert client.get(forfait_url(coaching)).status_code == 404
    response = client.post(forfait_url(coaching), {"nouveau_total": "5", "motif": "R."})
    assert response.status_code == 404
    client.force_login(coaching.cadre.user)
    assert client.get(forfait_url(coaching)).status_code == 302  # to the admin sign-in
    assert not ExtensionForfait.objects.exists()


# --- Portal -----------------------------------------------------------------------


def test_portal_shows_used_and_left_to_cadre_and_coach(client, m, coaching):
    schedule(coaching, 3)
    url = coaching.get_absolute_url()
    for user in (coaching.cadre.user, coaching.coach.user):
        client.force_login(user)
        page = text_of(client.get(url))
        assert "Séances utilisées : 1 / 2" in page
        assert "1 restante(s) sur le forfait" in page
    services.extend_allowance(coaching, 6, "Raison.", by=m["delegue_a"])
    page = text_of(client.get(url))
    assert "Séances utilisées : 1 / 6" in page and "forfait prolongé par le délégué" in page
    assert "1 / 6 utilisées" in text_of(client.get(reverse("coaching:list")))  # the coach
    client.force_login(coaching.cadre.user)
    assert "Séances utilisées : 1 / 6" in text_of(client.get(reverse("coaching:list")))
