"""A délégué plans a coaching session from the admin, through the coach's service."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Notification
from coaching import services
from coaching.models import Coaching, SeanceCoaching
from tests.factories import CadreFactory, CoachFactory, CoachingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracted(two_ministries):
    cadre = CadreFactory(structure=two_ministries["a_srv"], user=UserFactory())
    coaching = CoachingFactory(cadre=cadre, nb_seances_prevues=1)
    return services.assign(coaching, CoachFactory(user=UserFactory()))


def url(coaching):
    return reverse("admin:coaching_coaching_schedule", args=[coaching.pk])


def next_week():
    return (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT10:00")


def test_delegue_plans_a_session_with_reminders(client, two_ministries, contracted):
    client.force_login(two_ministries["delegue_a"])
    change = client.get(reverse("admin:coaching_coaching_change", args=[contracted.pk]))
    assert url(contracted) in change.content.decode()
    response = client.post(
        url(contracted),
        {"debut": next_week(), "duree": 90, "mode": "presentiel", "lieu": "Salle 4"},
    )
    assert response.status_code == 302
    seance = SeanceCoaching.objects.get(coaching=contracted)
    assert (seance.numero, seance.duree, seance.lieu) == (1, 90, "Salle 4")
    emails = set(Notification.objects.filter(object_id=seance.pk).values_list("email", flat=True))
    assert emails == {contracted.cadre.user.email, contracted.coach.user.email}


def test_allowance_and_past_dates_are_refused_in_french(client, two_ministries, contracted):
    client.force_login(two_ministries["delegue_a"])
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    response = client.post(url(contracted), {"debut": past, "duree": 60, "mode": "presentiel"})
    assert "La séance doit être planifiée dans le futur." in response.content.decode()
    client.post(url(contracted), {"debut": next_week(), "duree": 60, "mode": "presentiel"})
    response = client.post(
        url(contracted), {"debut": next_week(), "duree": 60, "mode": "presentiel"}
    )
    assert response.status_code == 200
    assert "une séance de plus demande que le délégué prolonge le forfait" in html.unescape(
        response.content.decode()
    )
    assert SeanceCoaching.objects.filter(coaching=contracted).count() == 1


def test_outside_the_perimeter_is_404(client, two_ministries, contracted):
    client.force_login(two_ministries["delegue_b"])
    assert client.get(url(contracted)).status_code == 404
    response = client.post(
        url(contracted), {"debut": next_week(), "duree": 60, "mode": "presentiel"}
    )
    assert response.status_code == 404
    assert not SeanceCoaching.objects.exists()


def test_not_before_the_contract(client, two_ministries):
    coaching = CoachingFactory(cadre=CadreFactory(structure=two_ministries["a"]))
    assert coaching.statut == Coaching.Statut.A_AFFECTER
    client.force_login(two_ministries["delegue_a"])
    response = client.post(url(coaching), {"debut": next_week(), "duree": 60, "mode": "presentiel"})
    assert "contractualisé ou en cours" in response.content.decode()
    assert not SeanceCoaching.objects.exists()
