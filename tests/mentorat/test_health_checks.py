"""Mentoring health checks (points d'étape): 30 days after the start, then every 60
days, both sides get two questions by mail, each check exactly once; they answer in
the portal (nobody else, not even the other side, can open their check); a low answer
or no answer after 14 days flags the relation for the délégués of the perimeter, in the
admin list, its filter and the relation's page."""

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Notification
from accompagnement.services import outbox
from mentorat import services, tasks
from mentorat.models import Mentorat, PointEtape
from tests.factories import (
    MentoratFactory,
    MentorFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Mentorat.Statut
MENTOR, MENTORE = PointEtape.Cote.MENTOR, PointEtape.Cote.MENTORE
LIST = reverse("admin:mentorat_mentorat_changelist")


def text_of(response):
    return html.unescape(response.content.decode())


def relation(days_ago, structure=None, statut=S.EN_COURS):
    """A relation under way since ``days_ago`` days, both sides with an account."""
    mentee = make_cadre_user(structure=structure) if structure else make_cadre_user()
    return MentoratFactory(
        mentor=MentorFactory(user=UserFactory()),
        mentore=mentee,
        statut=statut,
        date_debut=timezone.localdate() - timedelta(days=days_ago),
    )


def checks(mentorat):
    return sorted(mentorat.points_etape.values_list("numero", "cote", "echeance"))


def check_mails(**filters):
    return Notification.objects.filter(kind="mentorat_point_etape", **filters)


def point(mentorat, cote, numero=1, sent_days_ago=0, answer=None):
    """A check sent ``sent_days_ago`` days ago; ``answer`` = (utilité, rythme)."""
    sent = timezone.now() - timedelta(days=sent_days_ago)
    fields = {}
    if answer:
        fields = {"utilite": answer[0], "rythme": answer[1], "repondu_le": sent}
    return PointEtape.objects.create(
        mentorat=mentorat,
        numero=numero,
        cote=cote,
        echeance=sent.date(),
        envoye_le=sent,
        **fields,
    )


# --- Schedule and sending --------------------------------------------------------------


@pytest.mark.parametrize(
    "days, expected",
    [(0, None), (29, None), (30, (1, 30)), (89, (1, 30)), (90, (2, 90)), (151, (3, 150))],
)
def test_checks_fall_30_days_after_the_start_then_every_60(days, expected):
    start = timezone.localdate() - timedelta(days=400)
    due = services.health_check_due(start, start + timedelta(days=days))
    if expected is None:
        assert due is None
    else:
        assert due == (expected[0], start + timedelta(days=expected[1]))


def test_task_sends_each_check_once_to_both_sides():
    young = relation(35)
    older = relation(95)
    too_soon = relation(29)
    ended = relation(100, statut=S.TERMINE)
    proposed = relation(100, statut=S.PROPOSE)

    tasks.send_health_checks.delay()
    tasks.send_health_checks.delay()  # twice: nothing more

    today = timezone.localdate()
    assert checks(young) == [
        (1, MENTOR, young.date_debut + timedelta(days=30)),
        (1, MENTORE, young.date_debut + timedelta(days=30)),
    ]
    # The check due now, not a backlog of the missed first one.
    assert checks(older) == [
        (2, MENTOR, today - timedelta(days=5)),
        (2, MENTORE, today - timedelta(days=5)),
    ]
    for quiet in (too_soon, ended, proposed):
        assert checks(quiet) == []
    assert check_mails().count() == 4
    assert sorted(check_mails().values_list("email", flat=True)) == sorted(
        [young.mentor.user.email, young.mentore.user.email]
        + [older.mentor.user.email, older.mentore.user.email]
    )

    # The mails leave once, each with its own check's link.
    outbox.send_due()
    outbox.send_due()
    assert len(mail.outbox) == 4
    point_of = PointEtape.objects.get(mentorat=young, cote=MENTORE)
    (message,) = [msg for msg in mail.outbox if msg.to == [young.mentore.user.email]]
    assert "point d'étape n° 1" in message.subject
    assert "Ce mentorat vous est-il utile ?" in message.body
    assert "Vous rencontrez-vous comme prévu ?" in message.body
    assert f"http://testserver/espace/mentorat/points-etape/{point_of.pk}/" in message.body
    assert "votre mentor ne les voit pas" in message.body

    # Sixty days on: the young relation's second check, the older one's third, the
    # first of the one that was too young.
    services.send_health_checks(today + timedelta(days=60))
    services.send_health_checks(today + timedelta(days=60))
    assert [n for n, _, _ in checks(young)] == [1, 1, 2, 2]
    assert [n for n, _, _ in checks(older)] == [2, 2, 3, 3]
    assert [n for n, _, _ in checks(too_soon)] == [1, 1]
    assert check_mails().count() == 10


# --- Answering in the portal -------------------------------------------------------------


@pytest.fixture
def sent(two_ministries):
    """A relation of ministry A at day 31: its first check has just been sent."""
    mentorat = relation(31, structure=two_ministries["a_srv"])
    services.send_health_checks()
    return {
        "mentorat": mentorat,
        "mentor": PointEtape.objects.get(mentorat=mentorat, cote=MENTOR),
        "mentore": PointEtape.objects.get(mentorat=mentorat, cote=MENTORE),
    }


def url_of(point):
    return reverse("mentorat:point_etape", args=[point.pk])


def test_each_side_answers_its_own_check(client, sent):
    mentorat, check = sent["mentorat"], sent["mentore"]
    client.force_login(mentorat.mentore.user)
    page = text_of(client.get(url_of(check)))
    assert "Ce mentorat vous est-il utile ?" in page
    assert "Votre mentor ne les voit pas." in page
    # The relation's page shows the mentee's own pending check, not the mentor's.
    detail = text_of(client.get(mentorat.get_absolute_url()))
    assert url_of(check) in detail and url_of(sent["mentor"]) not in detail

    response = client.post(
        url_of(check), {"utilite": "2", "rythme": "4", "commentaire": "Peu de disponibilité."}
    )
    assert response.status_code == 302 and response["Location"] == mentorat.get_absolute_url()
    check.refresh_from_db()
    assert (check.utilite, check.rythme, check.commentaire) == (2, 4, "Peu de disponibilité.")
    assert check.repondu_le is not None
    assert url_of(check) not in text_of(client.get(mentorat.get_absolute_url()))

    # Once only: a second answer changes nothing.
    response = client.post(url_of(check), {"utilite": "5", "rythme": "5"}, follow=True)
    assert "Vous avez déjà répondu à ce point d'étape." in text_of(response)
    check.refresh_from_db()
    assert (check.utilite, check.rythme) == (2, 4)
    with pytest.raises(ValidationError, match="déjà répondu"):
        services.answer_health_check(check, mentorat.mentore.user, utilite=5, rythme=5)


def test_a_bad_answer_is_refused_and_changes_nothing(client, sent):
    mentorat, check = sent["mentorat"], sent["mentor"]
    client.force_login(mentorat.mentor.user)
    for data in ({"utilite": "7", "rythme": "3"}, {"rythme": "3"}, {"utilite": "0", "rythme": ""}):
        response = client.post(url_of(check), data)
        assert response.status_code == 400
        assert "fr-error-text" in response.content.decode() or "Choisissez" in text_of(response)
    check.refresh_from_db()
    assert check.repondu_le is None and check.utilite is None
    with pytest.raises(ValidationError) as excinfo:
        services.answer_health_check(check, mentorat.mentor.user, utilite=6, rythme=3)
    assert excinfo.value.message_dict == {"utilite": ["Choisissez une note de 1 à 5."]}


def test_nobody_else_opens_a_check_not_even_the_other_side(client, sent, two_ministries):
    mentorat = sent["mentorat"]
    sent["mentor"].utilite, sent["mentor"].rythme = 1, 1
    sent["mentor"].commentaire = "RÉPONSE-DU-MENTOR"
    sent["mentor"].repondu_le = timezone.now()
    sent["mentor"].save()
    strangers = [
        mentorat.mentore.user,  # the other side
        make_cadre_user().user,
        two_ministries["delegue_a"],  # even staff: the portal page is the side's own
    ]
    for user in strangers:
        client.force_login(user)
        assert client.get(url_of(sent["mentor"])).status_code == 404
        assert client.post(url_of(sent["mentor"]), {"utilite": "5", "rythme": "5"}).status_code == (
            404
        )
    client.force_login(mentorat.mentore.user)
    assert "RÉPONSE-DU-MENTOR" not in text_of(client.get(mentorat.get_absolute_url()))
    assert client.get(reverse("mentorat:point_etape", args=[999999])).status_code == 404
    with pytest.raises(ValidationError, match="Seul le destinataire"):
        services.answer_health_check(sent["mentore"], mentorat.mentor.user, utilite=3, rythme=3)
    client.logout()
    response = client.get(url_of(sent["mentore"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- The flag for the délégué ------------------------------------------------------------


@pytest.fixture
def flagged(two_ministries):
    """Relations of ministry A, each with its checks' state."""
    a = two_ministries["a_srv"]
    rows = {
        name: relation(100, structure=a)
        for name in ("low", "fine", "silent", "waiting", "superseded", "ended", "none")
    }
    point(rows["low"], MENTORE, sent_days_ago=3, answer=(2, 5))
    point(rows["low"], MENTOR, sent_days_ago=3, answer=(5, 5))
    point(rows["fine"], MENTORE, sent_days_ago=3, answer=(4, 3))
    point(rows["fine"], MENTOR, sent_days_ago=3, answer=(5, 3))
    point(rows["silent"], MENTOR, sent_days_ago=15)
    point(rows["waiting"], MENTOR, sent_days_ago=13)
    # A low first answer, then a good second one from the same side: the last counts.
    point(rows["superseded"], MENTOR, numero=1, sent_days_ago=70, answer=(1, 1))
    point(rows["superseded"], MENTOR, numero=2, sent_days_ago=10, answer=(4, 4))
    Mentorat.objects.filter(pk=rows["ended"].pk).update(statut=S.TERMINE)
    point(rows["ended"], MENTOR, sent_days_ago=3, answer=(1, 1))
    return rows


def test_low_or_missing_answers_flag_the_relation_in_the_admin(client, two_ministries, flagged):
    client.force_login(two_ministries["delegue_a"])
    response = client.get(LIST)
    rows = {r.pk: r.alerte_point_etape for r in response.context["cl"].result_list}
    expected = {"low": True, "silent": True}
    assert rows == {flagged[name].pk: expected.get(name, False) for name in flagged}
    assert "point d'étape à suivre" in text_of(response).lower()

    response = client.get(LIST, {"point_etape": "alerte"})
    assert {r.pk for r in response.context["cl"].result_list} == {
        flagged["low"].pk,
        flagged["silent"].pk,
    }
    response = client.get(LIST, {"point_etape": "ok"})
    assert len(response.context["cl"].result_list) == 5

    # The relation's page: both sides' answers, comment included, for the délégué.
    PointEtape.objects.filter(mentorat=flagged["low"], cote=MENTORE).update(
        commentaire="Nous ne nous voyons pas."
    )
    page = text_of(client.get(reverse("admin:mentorat_mentorat_change", args=[flagged["low"].pk])))
    assert "Points d'étape" in page
    assert "⚠ utilité 2 / 5, rencontres comme prévu 5 / 5 – « Nous ne nous voyons pas. »" in page
    assert "utilité 5 / 5, rencontres comme prévu 5 / 5" in page
    page = text_of(
        client.get(reverse("admin:mentorat_mentorat_change", args=[flagged["silent"].pk]))
    )
    assert "⚠ sans réponse après 14 jours" in page
    page = text_of(client.get(reverse("admin:mentorat_mentorat_change", args=[flagged["none"].pk])))
    assert "Aucun point d'étape envoyé" in page


def test_another_perimeter_sees_no_flag_nor_answer(client, two_ministries, flagged):
    client.force_login(two_ministries["delegue_b"])
    assert list(client.get(LIST, {"point_etape": "alerte"}).context["cl"].result_list) == []
    change = reverse("admin:mentorat_mentorat_change", args=[flagged["low"].pk])
    assert client.get(change).status_code == 404


def test_the_flag_is_in_the_relations_export(client, two_ministries, flagged):
    from tests.exports import csv_rows

    client.force_login(two_ministries["delegue_a"])
    rows = csv_rows(client.get(reverse("admin:mentorat_mentorat_export_csv")))
    column = rows[0].index("Point d'étape à suivre")
    assert sorted(row[column] for row in rows[1:]) == ["non"] * 5 + ["oui"] * 2


def test_relation_list_queries_do_not_grow_with_checks(client, two_ministries):
    client.force_login(two_ministries["delegue_a"])

    def add(n):
        for _ in range(n):
            mentorat = relation(100, structure=two_ministries["a_srv"])
            point(mentorat, MENTOR, numero=1, sent_days_ago=70, answer=(1, 2))
            point(mentorat, MENTOR, numero=2, sent_days_ago=20)
            point(mentorat, MENTORE, numero=2, sent_days_ago=10, answer=(4, 4))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    add(2)
    few = count()
    add(18)
    assert count() == few
    assert PointEtape.objects.alerting().values("mentorat").distinct().count() == 20
