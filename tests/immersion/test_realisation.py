"""Issue 14, point 9: the end-of-immersion feedback records whether the immersion was
completed, partly completed (which days were missed) or not attended; the
20-days-over-3-years counter counts the planned days until then and the days
actually done afterwards (service, portal, tutor's link, admin list)."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from immersion import services
from immersion.models import Immersion, Retour
from tests.factories import UserFactory
from tests.immersion.builders import accepted, past_days, sign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stand_in_pdf")]

R = Immersion.Realisation
AGENT, TUTEUR = Retour.Auteur.AGENT, Retour.Auteur.TUTEUR


def text_of(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def m(two_ministries):
    cadre = two_ministries["cadre_a"]
    cadre.user = UserFactory(email=cadre.email)
    cadre.save()
    return two_ministries


@pytest.fixture
def done(m):
    """Four days, over; signed by all."""
    return sign(accepted(m["cadre_a"], past_days(4, back=20), m["delegue_a"]))


def flags(immersion):
    return list(immersion.jours.order_by("date").values_list("effectue", flat=True))


def test_planned_days_count_until_the_feedback(done, m):
    assert flags(done) == [None] * 4
    assert len(services.other_days(m["cadre_a"])) == 4


def test_partly_completed_counts_the_days_done(done, m):
    missed = [done.dates[1], done.dates[3]]
    services.record_feedback(done, AGENT, "oui", realisation=R.PARTIELLE, jours_manques=missed)
    done.refresh_from_db()
    assert done.realisation == R.PARTIELLE and done.statut == Immersion.Statut.TERMINEE
    assert flags(done) == [True, False, True, False]
    assert sorted(services.other_days(m["cadre_a"])) == [done.dates[0], done.dates[2]]


def test_completed_counts_every_day(done, m):
    services.record_feedback(done, AGENT, "oui", realisation=R.EFFECTUEE)
    assert flags(done) == [True] * 4
    assert len(services.other_days(m["cadre_a"])) == 4


def test_not_attended_counts_no_day(done, m):
    services.record_feedback(done, TUTEUR, "non", realisation=R.NON_EFFECTUEE)
    assert flags(done) == [False] * 4
    assert services.other_days(m["cadre_a"]) == []


@pytest.mark.parametrize(
    "realisation, missed, field, message",
    [
        ("", "none", "realisation", "Indiquez si l'immersion a été effectuée"),
        (R.PARTIELLE, "none", "jours_manques", "Cochez les jours manqués"),
        (R.PARTIELLE, "all", "jours_manques", "et pas tous"),
        (R.EFFECTUEE, "one", "jours_manques", "n'a aucun jour manqué"),
        (R.PARTIELLE, "other", "jours_manques", "ne sont pas ceux de l'immersion"),
    ],
)
def test_inconsistent_answers_are_refused_and_nothing_saved(
    done, realisation, missed, field, message
):
    missed = {
        "none": [],
        "all": done.dates,
        "one": done.dates[:1],
        "other": past_days(1, back=90),
    }[missed]
    with pytest.raises(ValidationError) as refused:
        services.record_feedback(done, AGENT, "oui", realisation=realisation, jours_manques=missed)
    assert message in refused.value.message_dict[field][0]
    done.refresh_from_db()
    assert done.realisation == "" and done.statut == Immersion.Statut.SIGNEE
    assert flags(done) == [None] * 4 and not Retour.objects.exists()


def test_the_second_feedback_does_not_restate_it(done):
    services.record_feedback(
        done, AGENT, "oui", realisation=R.PARTIELLE, jours_manques=done.dates[:1]
    )
    with pytest.raises(ValidationError, match="déjà enregistrée : effectuée en partie"):
        services.record_feedback(done, TUTEUR, "oui", realisation=R.EFFECTUEE)
    services.record_feedback(done, TUTEUR, "en_partie")
    assert flags(done) == [False, True, True, True]
    assert Retour.objects.count() == 2


# --- portal, tutor's link, admin ------------------------------------------------------


def test_the_agent_says_which_days_were_missed(client, done, m):
    client.force_login(m["cadre_a"].user)
    page = text_of(client.get(done.get_absolute_url()))
    assert "L'immersion a-t-elle eu lieu ?" in page
    assert f"{done.dates[2]:%d/%m/%Y}" in page
    url = reverse("immersion:feedback", args=[done.pk])
    response = client.post(url, {"realisation": "partielle", "confirme_projet": "oui"})
    assert response.status_code == 200
    assert "Cochez les jours manqués" in text_of(response)
    assert not Retour.objects.exists()
    response = client.post(
        url,
        {
            "realisation": "partielle",
            "jours_manques": [done.dates[2].isoformat()],
            "confirme_projet": "oui",
        },
    )
    assert response.status_code == 302
    assert flags(done) == [True, True, False, True]
    page = text_of(client.get(done.get_absolute_url()))
    assert "Réalisation : effectuée en partie (des jours manqués)." in page
    assert page.count("manqué</span>") == 1 and page.count("effectué</span>") == 3


def test_the_counter_shown_to_the_agent_follows_the_feedback(client, done, m):
    client.force_login(m["cadre_a"].user)
    assert "il vous reste 16 jours" in text_of(client.get(reverse("immersion:new")))
    services.record_feedback(
        done, AGENT, "oui", realisation=R.PARTIELLE, jours_manques=done.dates[:3]
    )
    assert "il vous reste 19 jours" in text_of(client.get(reverse("immersion:new")))


def test_the_tutor_states_it_when_first(client, done):
    url = reverse("immersion_public:retour", args=[services.feedback_token(done)])
    page = text_of(client.get(url))
    assert "L'immersion a-t-elle eu lieu ?" in page
    response = client.post(url, {"realisation": "non_effectuee", "confirme_projet": "non"})
    assert "Merci pour votre retour" in text_of(response)
    done.refresh_from_db()
    assert done.realisation == R.NON_EFFECTUEE


def test_after_the_tutor_the_agent_is_not_asked_again(client, done, m):
    services.record_feedback(done, TUTEUR, "oui", realisation=R.EFFECTUEE)
    client.force_login(m["cadre_a"].user)
    form = client.get(done.get_absolute_url()).context["feedback_form"]
    assert "realisation" not in form.fields and "jours_manques" not in form.fields
    response = client.post(
        reverse("immersion:feedback", args=[done.pk]), {"confirme_projet": "oui"}
    )
    assert response.status_code == 302
    assert Retour.objects.get(auteur=AGENT).confirme_projet == "oui"


def test_the_admin_list_counts_the_days_done(client, done, m):
    client.force_login(m["delegue_a"])
    url = reverse("admin:immersion_immersion_changelist")
    (row,) = client.get(url).context["cl"].result_list
    assert row.jours_3_ans == 4
    services.record_feedback(
        done, AGENT, "oui", realisation=R.PARTIELLE, jours_manques=done.dates[:1]
    )
    (row,) = client.get(url).context["cl"].result_list
    assert row.jours_3_ans == 3
    page = text_of(client.get(reverse("admin:immersion_immersion_change", args=[done.pk])))
    assert "Effectuée en partie (des jours manqués)" in page
