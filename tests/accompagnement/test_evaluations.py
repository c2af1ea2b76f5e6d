"""End-of-programme evaluations: asked by mail, answered in the portal, read in the
admin only in aggregate (and never individually for a coaching)."""

import html
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Evaluation, Notification
from accompagnement.services import outbox
from accompagnement.services.evaluations import answer, request_evaluations
from tests.factories import UserFactory, make_cadre_user
from tests.fakescheme.models import FakeProgramme

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")
CHANGELIST = reverse("admin:accompagnement_evaluation_changelist")
SECRET = "Mon coach m'a aidé à parler de mon conflit avec le directeur général."


def form_url(evaluation):
    return reverse("portal:evaluation", args=[evaluation.pk])


def change_url(evaluation):
    return reverse("admin:accompagnement_evaluation_change", args=[evaluation.pk])


def rows(evaluation, **filters):
    return Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(Evaluation),
        object_id=evaluation.pk,
        **filters,
    )


def ask(programme, dispositif="coaching"):
    return request_evaluations(
        programme,
        dispositif=dispositif,
        cadre=programme.cadre,
        participants=[programme.cadre.user, programme.accompagnant],
    )


# --- Asking -----------------------------------------------------------------------


def test_one_evaluation_per_participant_with_mail_and_reminder(programme):
    created = ask(programme)
    assert len(created) == 2
    assert {e.participant for e in created} == {programme.cadre.user, programme.accompagnant}
    for evaluation in created:
        assert evaluation.cadre == programme.cadre
        assert evaluation.programme == programme
        assert evaluation.dispositif == "coaching"
        assert evaluation.is_pending
        asked = rows(evaluation, kind="evaluation_demandee").get()
        assert asked.email == evaluation.participant.email
        reminder = rows(evaluation, kind="evaluation_relance").get()
        assert reminder.due_at == evaluation.demandee_le + timedelta(days=7)
        assert reminder.statut == Notification.Statut.EN_ATTENTE

    # Idempotent: asking again (a task run twice) creates nothing and mails nobody.
    assert ask(programme) == []
    assert Evaluation.objects.count() == 2
    assert Notification.objects.filter(kind__startswith="evaluation_").count() == 4


def test_participants_are_mailed_then_reminded(programme):
    for_cadre = next(e for e in ask(programme) if e.participant == programme.cadre.user)
    outbox.send_due()
    assert len(mail.outbox) == 2
    message = next(msg for msg in mail.outbox if programme.cadre.user.email in msg.to)
    assert message.subject == (
        "[Accompagnement des cadres] évaluez votre accompagnement (coaching)"
    )
    assert f"http://testserver{form_url(for_cadre)}" in message.body
    assert message.alternatives[0][1] == "text/html"

    outbox.send_due(now=timezone.now() + timedelta(days=7, minutes=1))
    reminders = [
        msg for msg in mail.outbox if msg.subject.startswith("[Accompagnement des cadres] Relance")
    ]
    assert len(reminders) == 2


def test_home_lists_the_pending_evaluation(client, programme):
    [evaluation] = request_evaluations(
        programme, dispositif="coaching", cadre=programme.cadre, participants=[programme.cadre.user]
    )
    client.force_login(programme.cadre.user)
    page = html.unescape(client.get(HOME).content.decode())
    assert "À faire" in page
    assert "Évaluer votre accompagnement (coaching)" in page
    assert form_url(evaluation) in page


# --- Answering ---------------------------------------------------------------------


@pytest.fixture
def evaluation(programme):
    [evaluation] = request_evaluations(
        programme, dispositif="coaching", cadre=programme.cadre, participants=[programme.cadre.user]
    )
    return evaluation


def test_participant_answers_in_the_portal(client, evaluation):
    client.force_login(evaluation.participant)
    response = client.get(form_url(evaluation))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Évaluer votre accompagnement" in page
    assert "restent confidentielles" in page
    assert "fr-fieldset" in page and "fr-radio-group" in page

    response = client.post(
        form_url(evaluation),
        {"satisfaction": "4", "objectifs_atteints": "partiellement", "commentaire": SECRET},
    )
    assert response.status_code == 302
    assert response.url == HOME
    evaluation.refresh_from_db()
    assert evaluation.satisfaction == 4
    assert evaluation.objectifs_atteints == Evaluation.Objectifs.PARTIELLEMENT
    assert evaluation.commentaire == SECRET
    assert timezone.now() - evaluation.remplie_le < timedelta(minutes=1)
    assert rows(evaluation, kind="evaluation_relance").get().statut == "annulee"

    page = html.unescape(client.get(HOME).content.decode())
    assert "Merci, votre évaluation est enregistrée." in page
    assert form_url(evaluation) not in page  # no longer to do

    # Coming back (the reminder mail's link, say) says it is done.
    response = client.get(form_url(evaluation), follow=True)
    assert response.redirect_chain == [(HOME, 302)]
    assert "Vous avez déjà répondu à cette évaluation" in html.unescape(response.content.decode())
    response = client.post(form_url(evaluation), {"satisfaction": "1", "objectifs_atteints": "non"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.satisfaction == 4


def test_no_reminder_after_answering(client, evaluation):
    answer(evaluation, satisfaction=5, objectifs_atteints="oui")
    outbox.send_due(now=timezone.now() + timedelta(days=8))
    assert not [msg for msg in mail.outbox if "Relance" in msg.subject]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"satisfaction": "7", "objectifs_atteints": "oui"}, "Sélectionnez un choix valide"),
        ({"satisfaction": "0", "objectifs_atteints": "oui"}, "Sélectionnez un choix valide"),
        ({"satisfaction": "", "objectifs_atteints": "oui"}, "Ce champ est obligatoire."),
        ({"satisfaction": "3"}, "Ce champ est obligatoire."),
        ({"satisfaction": "3", "objectifs_atteints": "peut-être"}, "Sélectionnez un choix valide"),
    ],
)
def test_invalid_answer_is_refused_in_french(client, evaluation, data, message):
    client.force_login(evaluation.participant)
    response = client.post(form_url(evaluation), {**data, "commentaire": "Bien."})
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    evaluation.refresh_from_db()
    assert evaluation.satisfaction is None
    assert evaluation.objectifs_atteints == ""
    assert evaluation.commentaire == ""
    assert evaluation.remplie_le is None
    assert rows(evaluation, kind="evaluation_relance").get().statut == "en_attente"


def test_someone_else_cannot_open_or_answer(client, evaluation, programme):
    for intruder in (UserFactory(), programme.accompagnant):
        client.force_login(intruder)
        assert client.get(form_url(evaluation)).status_code == 404
        response = client.post(
            form_url(evaluation), {"satisfaction": "1", "objectifs_atteints": "non"}
        )
        assert response.status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.is_pending


def test_anonymous_is_sent_to_sign_in(client, evaluation):
    response = client.get(form_url(evaluation))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- Admin: aggregates only ---------------------------------------------------------


@pytest.fixture
def answered(m):
    """In ministry A: three answered coaching evaluations, one pending, one answered
    mentoring evaluation. In ministry B: one answered coaching evaluation."""

    def programme_in(structure, name):
        cadre = make_cadre_user(structure=structure, nom=name)
        return FakeProgramme.objects.create(cadre=cadre, accompagnant=UserFactory())

    coaching = programme_in(m["a_srv"], "Coaché")
    cadre_eval, coach_eval = ask(coaching)
    answer(cadre_eval, satisfaction=5, objectifs_atteints="oui", commentaire=SECRET)
    answer(coach_eval, satisfaction=4, objectifs_atteints="partiellement", commentaire=SECRET)
    third = ask(programme_in(m["a_srv"], "Troisième"))[0]
    answer(third, satisfaction=3, objectifs_atteints="non", commentaire=SECRET)
    pending = ask(programme_in(m["a_dir"], "Enattente"))[0]
    mentoring = programme_in(m["a"], "Mentoré")
    [mentee_eval, _] = ask(mentoring, "mentorat")
    answer(mentee_eval, satisfaction=3, objectifs_atteints="non", commentaire="Rencontres utiles.")
    outside = ask(programme_in(m["b"], "Ailleurs"))[0]
    answer(outside, satisfaction=1, objectifs_atteints="non", commentaire="Très déçu.")
    return {
        "coaching": cadre_eval,
        "coach": coach_eval,
        "pending": pending,
        "mentoring": mentee_eval,
        "outside": outside,
    }


def test_delegue_sees_aggregates_of_their_perimeter(client, m, answered):
    client.force_login(m["delegue_a"])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    aggregates = {row["dispositif"]: row for row in response.context["aggregates"]}
    assert aggregates["coaching"]["reponses"] == 3
    assert aggregates["coaching"]["satisfaction"] == pytest.approx(4.0)
    assert aggregates["coaching"]["atteints"] == 1
    assert aggregates["coaching"]["partiels"] == 1
    # One mentoring answer would be one person's answer: counted, not shown.
    assert aggregates["mentorat"]["reponses"] == 1
    assert aggregates["mentorat"]["satisfaction"] is None
    page = html.unescape(response.content.decode())
    assert "Résultats agrégés" in page
    assert "Satisfaction moyenne (sur 5)" in page
    assert "4,0" in page
    assert "Moins de 3 réponses" in page

    listed = set(response.context["cl"].result_list)
    assert answered["outside"] not in listed
    assert answered["coaching"] in listed and answered["pending"] in listed
    assert "AILLEURS" not in page
    assert "Très déçu" not in page


def test_no_individual_answer_in_the_admin(client, m, answered):
    for user in (m["delegue_a"], m["admin"]):
        client.force_login(user)
        page = html.unescape(client.get(CHANGELIST).content.decode())
        assert SECRET not in page
        assert "Rencontres utiles" not in page
        for evaluation in (answered["coaching"], answered["coach"]):
            response = client.get(change_url(evaluation))
            assert response.status_code == 200
            page = html.unescape(response.content.decode())
            assert SECRET not in page
            assert "Satisfaction (1 à 5)".lower() not in page.lower()
            assert "Objectifs atteints".lower() not in page.lower()
            assert str(evaluation.cadre) in page  # who was asked and when stays visible


def test_delegue_cannot_read_a_mentoring_answer_the_administrator_can(client, m, answered):
    url = change_url(answered["mentoring"])
    client.force_login(m["delegue_a"])
    assert "Rencontres utiles" not in html.unescape(client.get(url).content.decode())
    client.force_login(m["admin"])
    assert "Rencontres utiles" in html.unescape(client.get(url).content.decode())


def test_evaluations_cannot_be_added_or_edited_in_the_admin(client, m, answered):
    client.force_login(m["admin"])
    evaluation = answered["coaching"]
    assert client.get(reverse("admin:accompagnement_evaluation_add")).status_code == 403
    response = client.post(change_url(evaluation), {"satisfaction": "1", "commentaire": "x"})
    assert response.status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.satisfaction == 5


def test_delegue_of_another_perimeter_sees_nothing_of_it(client, m, answered):
    client.force_login(m["delegue_b"])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert answered["outside"] in listed
    assert {e.cadre for e in listed} == {answered["outside"].cadre}
    aggregates = response.context["aggregates"]
    assert [(row["dispositif"], row["reponses"]) for row in aggregates] == [("coaching", 1)]
    for name in ("coaching", "pending", "mentoring"):
        assert client.get(change_url(answered[name])).status_code == 404
    page = response.content.decode()
    assert "COACHÉ" not in page and "MENTORÉ" not in page
