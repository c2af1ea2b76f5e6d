"""The four-A evaluation (issue 14, point 3): at the end of each séance the members
present answer four short questions (appréciation, attentes, apprentissages,
applications), once, anonymously; the animateur sees aggregates per séance and per
cycle, from three answers; HR sees attendance and counts only, never the content."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accompagnement.models import Notification
from accompagnement.registry import get as scheme_of
from accompagnement.services import outbox
from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import EvaluationRendue, EvaluationSeance, Groupe, Seance
from tests.concurrency import race
from tests.factories import GroupeFactory, UserFactory, make_cadre_user

pytestmark = pytest.mark.django_db

ALL_FIVE = {"appreciation": 5, "attentes": 5, "apprentissages": 5, "applications": 5}


@pytest.fixture(autouse=True)
def reminders(settings):
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


def text(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def make_group(size=5, structure=None):
    animateur = UserFactory()
    grant_role(animateur, Role.Kind.ANIMATEUR)
    extra = {"structure": structure} if structure else {}
    groupe = GroupeFactory(nom="Codev des sous-directeurs", animateur=animateur, **extra)
    membres = [services.add_member(groupe, make_cadre_user()) for _ in range(size)]
    services.generate_cycle(groupe)
    return groupe, membres


def close(seance):
    while not Seance.objects.get(pk=seance.pk).terminee_le:
        services.next_phase(seance)
    seance.refresh_from_db()
    return seance


def scores(a, b, c, d):
    return {"appreciation": a, "attentes": b, "apprentissages": c, "applications": d}


def evaluation_url(seance):
    return reverse("codev:seance_evaluation", args=[seance.pk])


@pytest.fixture
def held():
    """A group of five, séance 1 closed; the fifth member was absent."""
    groupe, membres = make_group(5)
    seance = groupe.seances.get(numero=1)
    services.record_attendance(seance, {m.pk for m in membres[:4]})
    close(seance)
    return groupe, membres, seance


# --- Asking ---------------------------------------------------------------------------


def test_closing_the_seance_invites_the_members_present_once(held):
    groupe, membres, seance = held
    rows = Notification.objects.filter(kind="codev_evaluation", object_id=seance.pk)
    assert {r.recipient_id for r in rows} == {m.cadre.user_id for m in membres[:4]}
    assert groupe.animateur_id not in {r.recipient_id for r in rows}  # not a member
    services._ask_for_evaluations(seance)  # a second call: no second row
    assert rows.count() == 4
    outbox.send_due()
    sent = [m for m in mail.outbox if "Évaluez la séance n° 1" in m.subject]
    assert len(sent) == 4
    assert evaluation_url(seance) in sent[0].body and "anonyme" in sent[0].body


def test_the_members_home_asks_for_the_evaluation_until_answered(held):
    groupe, membres, seance = held
    actions = scheme_of("codev").actions_for
    card = [c for c in actions(membres[1].cadre.user) if c.url == evaluation_url(seance)]
    assert card and card[0].titre.startswith("Évaluez la séance n° 1")
    assert not [c for c in actions(membres[4].cadre.user) if c.url == evaluation_url(seance)]
    services.answer_evaluation(seance, membres[1], **ALL_FIVE)
    assert not [c for c in actions(membres[1].cadre.user) if c.url == evaluation_url(seance)]


# --- Answering --------------------------------------------------------------------------


def test_a_present_member_answers_once_through_the_page(client, held):
    groupe, membres, seance = held
    client.force_login(membres[0].cadre.user)
    group_page = text(client.get(groupe.get_absolute_url()))
    assert evaluation_url(seance) in group_page
    body = text(client.get(evaluation_url(seance)))
    for question in (
        "Appréciation : Avez-vous apprécié cette séance ?",
        "Attentes : La séance a-t-elle répondu à vos attentes ?",
        "Apprentissages : Avez-vous appris quelque chose d'utile pour vous ?",
        "Applications : Mettrez-vous en pratique ce que vous avez appris ?",
    ):
        assert question in body
    assert "Votre réponse est anonyme" in body

    response = client.post(evaluation_url(seance), scores(4, 3, 5, 2))
    assert response.status_code == 302
    response = client.get(response.url)
    assert messages_of(response)[0].startswith("Merci : votre réponse anonyme est enregistrée.")
    assert evaluation_url(seance) not in text(response)
    assert "Évaluée" in text(response)
    answer = EvaluationSeance.objects.get(seance=seance)
    assert (answer.appreciation, answer.attentes, answer.apprentissages) == (4, 3, 5)
    assert answer.applications == 2
    assert EvaluationRendue.objects.filter(seance=seance, membre=membres[0]).exists()

    # Once only.
    response = client.post(evaluation_url(seance), scores(1, 1, 1, 1))
    assert response.status_code == 200
    assert "Vous avez évalué cette séance." in text(response)
    assert messages_of(response) == ["Votre réponse n'a pas été enregistrée."]
    assert EvaluationSeance.objects.filter(seance=seance).count() == 1
    with pytest.raises(ValidationError) as excinfo:
        services.answer_evaluation(seance, membres[0], **ALL_FIVE)
    assert excinfo.value.messages == [
        "Vous avez déjà évalué cette séance : une réponse par séance."
    ]
    assert EvaluationSeance.objects.filter(seance=seance).count() == 1


def test_an_answer_cannot_be_traced_back_to_its_author():
    """No column of an answer points at a person or a moment; its id is random."""
    fields = {f.name: f for f in EvaluationSeance._meta.get_fields()}
    assert set(fields) == {
        "id",
        "seance",
        "appreciation",
        "attentes",
        "apprentissages",
        "applications",
    }
    assert isinstance(fields["id"], models.UUIDField)
    assert not any(isinstance(f, models.DateTimeField | models.DateField) for f in fields.values())
    # And who answered carries nothing of what they said.
    assert {f.name for f in EvaluationRendue._meta.get_fields()} == {"id", "seance", "membre"}


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_answers_of_one_member_count_once():
    groupe, membres = make_group(3)
    seance = close(groupe.seances.get(numero=1))
    ok, refused = race(lambda: services.answer_evaluation(seance, membres[0], **ALL_FIVE), [(), ()])
    assert len(ok) == 1 and len(refused) == 1
    assert EvaluationSeance.objects.filter(seance=seance).count() == 1
    assert EvaluationRendue.objects.filter(seance=seance).count() == 1


def test_refusals(client, held):
    groupe, membres, seance = held
    absent = membres[4]
    with pytest.raises(ValidationError) as excinfo:
        services.answer_evaluation(seance, absent, **ALL_FIVE)
    assert excinfo.value.messages == ["Seuls les membres présents à la séance l'évaluent."]
    client.force_login(absent.cadre.user)
    response = client.post(evaluation_url(seance), ALL_FIVE)
    assert response.status_code == 200
    assert "Seuls les membres présents à la séance l'évaluent." in text(response)

    # Out-of-range or missing answers.
    client.force_login(membres[0].cadre.user)
    response = client.post(evaluation_url(seance), {**ALL_FIVE, "attentes": "6"})
    assert "attentes" in response.context["form"].errors
    response = client.post(evaluation_url(seance), {"appreciation": "3"})
    assert set(response.context["form"].errors) == {"attentes", "apprentissages", "applications"}
    with pytest.raises(ValidationError):
        services.answer_evaluation(seance, membres[0], **{**ALL_FIVE, "attentes": 0})
    assert not EvaluationSeance.objects.exists() and not EvaluationRendue.objects.exists()

    # Not before the last step, not after the window.
    upcoming = groupe.seances.get(numero=2)
    with pytest.raises(ValidationError) as excinfo:
        services.answer_evaluation(upcoming, membres[0], **ALL_FIVE)
    assert "n'est pas ouverte" in excinfo.value.messages[0]
    for _ in range(7):
        services.next_phase(upcoming)
    services.answer_evaluation(upcoming, membres[0], **ALL_FIVE)  # at the last step: open
    Seance.objects.filter(pk=seance.pk).update(terminee_le=timezone.now() - timedelta(days=15))
    seance.refresh_from_db()
    with pytest.raises(ValidationError):
        services.answer_evaluation(seance, membres[1], **ALL_FIVE)
    assert "n'est pas ouverte" in text(client.get(evaluation_url(seance)))


def test_people_outside_the_group_get_404(client, held):
    groupe, membres, seance = held
    other_group, others = make_group(2)
    for user in (others[0].cadre.user, groupe.animateur, other_group.animateur):
        client.force_login(user)
        assert client.get(evaluation_url(seance)).status_code == 404
        assert client.post(evaluation_url(seance), ALL_FIVE).status_code == 404
    assert not EvaluationSeance.objects.exists()


# --- What the animateur sees -------------------------------------------------------------


def test_the_animateur_sees_aggregates_from_three_answers(client):
    groupe, membres = make_group(5)
    first, second, third = (close(groupe.seances.get(numero=n)) for n in (1, 2, 3))
    for membre, (a, b, c, d) in zip(
        membres[:3], [(5, 4, 3, 2), (4, 4, 5, 2), (3, 4, 4, 5)], strict=True
    ):
        services.answer_evaluation(first, membre, **scores(a, b, c, d))
    for membre in membres[:2]:  # two answers only: hidden
        services.answer_evaluation(second, membre, **scores(1, 1, 1, 1))
    for membre in membres[:4]:
        services.answer_evaluation(third, membre, **scores(2, 2, 2, 2))

    figures = services.evaluation_figures(groupe.seances.all())
    assert figures["seances"][first.pk]["reponses"] == 3
    assert [a["moyenne"] for a in figures["seances"][first.pk]["moyennes"]] == [4, 4, 4, 3]
    assert figures["seances"][second.pk] == {"reponses": 2, "masque": True, "moyennes": None}
    # The cycle: the séances shown only (3 + 4 answers), so that the hidden one cannot be
    # worked out by difference.
    cycle = figures["cycle"]
    assert cycle["reponses"] == 9 and cycle["seances"] == 2
    assert [a["moyenne"] for a in cycle["moyennes"]] == [
        round((12 + 8) / 7, 1),
        round((12 + 8) / 7, 1),
        round((12 + 8) / 7, 1),
        round((9 + 8) / 7, 1),
    ]

    client.force_login(groupe.animateur)
    body = text(client.get(groupe.get_absolute_url()))
    assert "Évaluation du cycle (4 A)" in body
    assert "2 réponses" in body and "résultats masqués sous 3 réponses" in body
    assert "Appréciation : 4,0 / 5" in body or "Appréciation : 4.0 / 5" in body
    assert "Sur 2 séances (9 réponses en tout)." in body
    runner = text(client.get(reverse("codev:seance", args=[first.pk])))
    assert "Évaluation de la séance (4 A)" in runner and "3 réponses anonymes" in runner
    runner = text(client.get(reverse("codev:seance", args=[second.pk])))
    assert "les résultats s'affichent à partir de 3 réponses" in runner


def test_members_see_no_aggregate(client):
    groupe, membres = make_group(3)
    seance = close(groupe.seances.get(numero=1))
    for membre in membres:
        services.answer_evaluation(seance, membre, **scores(2, 3, 4, 5))
    client.force_login(membres[0].cadre.user)
    body = text(client.get(groupe.get_absolute_url()))
    assert "Évaluation du cycle" not in body and "/ 5" not in body


# --- What HR sees ------------------------------------------------------------------------


def test_hr_sees_counts_never_answers(client, two_ministries):
    m = two_ministries
    groupe, membres = make_group(3, structure=m["a_dir"])
    seance = close(groupe.seances.get(numero=1))
    for membre, a in zip(membres, (1, 2, 4), strict=True):
        services.answer_evaluation(seance, membre, **scores(a, 3, 3, 3))
    for staff in (m["delegue_a"], m["admin"]):
        client.force_login(staff)
        page = text(client.get(reverse("admin:codev_groupe_change", args=[groupe.pk])))
        assert "Évaluations (4 A) reçues" in page
        assert re.search(r'<td class="field-evaluations">\s*<p>3</p>', page), page
        for leak in ("2,3", "2.3", "Appréciation", "moyenne", "/ 5"):
            assert leak not in page, (staff, leak)
        export = client.get(reverse("admin:codev_groupe_export_csv"))
        body = b"".join(export.streaming_content).decode("utf-8-sig")
        assert "Appréciation" not in body and "2.3" not in body
    for model in (EvaluationSeance, EvaluationRendue):
        assert not admin.site.is_registered(model)
    for name in ("evaluationseance", "evaluationrendue"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:codev_{name}_changelist")
    # Nor the délégué in the facilitator space: not a member, 404.
    client.force_login(m["delegue_a"])
    assert client.get(evaluation_url(seance)).status_code == 404
    assert client.get(groupe.get_absolute_url()).status_code == 404


# --- Queries -------------------------------------------------------------------------------


def count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["animateur", "member"])
def test_the_group_page_makes_as_many_queries_for_one_as_for_four_evaluated_seances(client, who):
    counts = []
    for evaluated in (1, 4):
        groupe, membres = make_group(4)
        for numero in range(1, evaluated + 1):
            seance = close(groupe.seances.get(numero=numero))
            for membre in membres[1:]:
                services.answer_evaluation(seance, membre, **ALL_FIVE)
        user = groupe.animateur if who == "animateur" else membres[0].cadre.user
        client.force_login(user)
        counts.append(count(client, groupe.get_absolute_url()))
    assert counts[0] == counts[1], counts
    assert Groupe.objects.count() == 2
