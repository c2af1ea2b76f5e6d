"""Calendars: each person's secret ICS feed, and the .ics invitations carried by the
reminder and cancellation mails."""

import html
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accompagnement import registry
from accompagnement.models import CalendarFeed, Notification
from accompagnement.services import outbox
from tests.factories import UserFactory, make_cadre_user
from tests.fakescheme.models import FakeProgramme, FakeSession

pytestmark = pytest.mark.django_db

AGENDA = reverse("portal:agenda")
REVOKE = reverse("portal:agenda_revoke")
VISIO = "https://webconf.numerique.gouv.fr/abc-defg-hij"


def feed_url(token):
    return reverse("calendar_feed", args=[token])


def feed_of(user):
    return CalendarFeed.objects.get_or_create(user=user)[0]


def parse(content):
    return Calendar.from_ical(content)


def events(response):
    assert response.status_code == 200
    return {str(e["uid"]): e for e in parse(response.content).walk("VEVENT")}


def plan(programme, days=10, **kwargs):
    return FakeSession.objects.create(
        programme=programme, debut=timezone.now() + timedelta(days=days), **kwargs
    )


def dt(event, name):
    return event.decoded(name)


@pytest.fixture
def other_programme(db):
    return FakeProgramme.objects.create(cadre=make_cadre_user(), accompagnant=UserFactory())


# --- the feed -------------------------------------------------------------------


def test_feed_needs_no_sign_in_and_lists_the_users_sessions(client, programme, other_programme):
    user = programme.cadre.user
    too_old = plan(programme, days=-91)
    last_month = plan(programme, days=-30, lieu="Ministère, salle 204")
    next_week = plan(programme, days=7, mode="distanciel", lien_visio=VISIO)
    later = plan(programme, days=120, duree=90, lieu="Tour Séquoia, La Défense")
    someone_else = plan(other_programme, days=7)

    response = client.get(feed_url(feed_of(user).token))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    cal = parse(response.content)
    assert str(cal["method"]) == "PUBLISH"
    assert str(cal["x-wr-timezone"]) == "Europe/Paris"
    found = events(response)
    assert set(found) == {s.ics_uid() for s in (last_month, next_week, later)}
    assert too_old.ics_uid() not in found
    assert someone_else.ics_uid() not in found

    event = found[later.ics_uid()]
    start, end = dt(event, "dtstart"), dt(event, "dtend")
    assert start.tzinfo is not None and start == later.debut.replace(microsecond=0)
    assert end - start == timedelta(minutes=90)
    assert str(event["summary"]) == f"Séance d'accompagnement – {programme.cadre}"
    assert str(event["location"]) == "Tour Séquoia, La Défense"
    assert "url" not in event
    assert str(event["status"]) == "CONFIRMED"
    assert event["categories"].to_ical() == b"Coaching"

    visio = found[next_week.ics_uid()]
    assert str(visio["location"]) == VISIO
    assert str(visio["url"]) == VISIO


def test_the_accompanist_sees_the_session_in_their_own_feed(client, programme):
    session = plan(programme)
    found = events(client.get(feed_url(feed_of(programme.accompagnant).token)))
    assert list(found) == [session.ics_uid()]
    attendees = {str(a) for a in found[session.ics_uid()].get("attendee")}
    assert attendees == {
        f"mailto:{programme.cadre.user.email}",
        f"mailto:{programme.accompagnant.email}",
    }


def test_uid_is_stable_and_sequence_grows_when_the_session_changes(client, programme):
    session = plan(programme, lieu="Salle 1")
    url = feed_url(feed_of(programme.cadre.user).token)
    before = events(client.get(url))[session.ics_uid()]

    session.debut += timedelta(days=2, hours=3)
    session.save()
    moved = events(client.get(url))[session.ics_uid()]
    assert moved["sequence"] > before["sequence"]
    assert dt(moved, "dtstart") == session.debut.replace(microsecond=0)
    assert dt(moved, "dtstart") - dt(before, "dtstart") == timedelta(days=2, hours=3)

    session.statut = FakeSession.Statut.ANNULEE
    session.save()
    cancelled = events(client.get(url))[session.ics_uid()]
    assert str(cancelled["status"]) == "CANCELLED"
    assert cancelled["sequence"] > moved["sequence"]
    assert str(cancelled["uid"]) == str(before["uid"])


def test_the_feed_is_timezone_aware(client, programme):
    # 9 h 30 in Paris in winter is 8 h 30 UTC: calendars must show 9 h 30.
    start = timezone.make_aware(timezone.datetime(2099, 1, 15, 9, 30))
    session = FakeSession.objects.create(programme=programme, debut=start)
    event = events(client.get(feed_url(feed_of(programme.cadre.user).token)))[session.ics_uid()]
    start_in_feed = dt(event, "dtstart")
    assert start_in_feed.utcoffset() is not None
    assert start_in_feed == start
    assert timezone.localtime(start_in_feed).strftime("%H:%M") == "09:30"


def test_unknown_token_is_404(client, programme):
    feed_of(programme.cadre.user)
    assert client.get(feed_url("x" * 43)).status_code == 404


def test_feed_of_a_deactivated_account_is_404(client, programme):
    feed = feed_of(programme.cadre.user)
    programme.cadre.user.is_active = False
    programme.cadre.user.save()
    assert client.get(feed_url(feed.token)).status_code == 404


def test_the_token_is_long_urlsafe_randomness(programme, other_programme):
    tokens = {feed_of(u).token for u in (programme.cadre.user, other_programme.cadre.user)}
    assert len(tokens) == 2
    for token in tokens:
        assert len(token) >= 43  # secrets.token_urlsafe(32): 256 bits
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


@pytest.mark.parametrize("count", [1, 30])
def test_feed_queries_do_not_grow_with_the_number_of_sessions(
    client, programme, count, django_assert_max_num_queries
):
    for day in range(count):
        plan(programme, days=day - 20, lieu=f"Salle {day}")
    url = feed_url(feed_of(programme.cadre.user).token)
    # The feed and its owner, then at most two queries per registered scheme (sessions,
    # and a prefetch where a scheme needs one), whatever the number of sessions.
    with django_assert_max_num_queries(1 + 2 * len(registry.all_schemes())):
        found = events(client.get(url))
    assert len(found) == count


# --- the agenda page (signed in) ---------------------------------------------------


def test_agenda_page_needs_sign_in(client):
    response = client.get(AGENDA)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={AGENDA}"
    assert client.post(REVOKE).status_code == 302
    assert not CalendarFeed.objects.exists()


def test_agenda_page_shows_only_the_users_own_feed_address(client, programme, other_programme):
    others = feed_of(other_programme.cadre.user)
    client.force_login(programme.cadre.user)
    response = client.get(AGENDA)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    mine = CalendarFeed.objects.get(user=programme.cadre.user)
    assert f"http://testserver/calendrier/{mine.token}.ics" in page
    assert others.token not in page
    assert "Mon agenda" in page
    assert "Adresse de votre agenda (personnelle et secrète)" in page
    assert "Révoquer cette adresse et en créer une nouvelle" in page
    # Shown again, it is the same address (subscriptions keep working).
    client.get(AGENDA)
    assert CalendarFeed.objects.get(user=programme.cadre.user).token == mine.token


def test_revoking_the_address_kills_the_old_one(client, programme):
    user = programme.cadre.user
    plan(programme)
    old = feed_of(user).token
    client.force_login(user)
    assert client.get(AGENDA).status_code == 200
    assert client.get(REVOKE).status_code == 405  # a POST only (CSRF-protected form)

    response = client.post(REVOKE, follow=True)
    assert response.redirect_chain == [(AGENDA, 302)]
    page = html.unescape(response.content.decode())
    assert "Nouvelle adresse créée : l'ancienne ne fonctionne plus." in page
    new = CalendarFeed.objects.get(user=user).token
    assert new != old
    assert f"/calendrier/{new}.ics" in page
    assert old not in page

    client.logout()
    assert client.get(feed_url(old)).status_code == 404
    assert len(events(client.get(feed_url(new)))) == 1


# --- invitations in the mails --------------------------------------------------------


def _send_due_reminders(session):
    at = max(Notification.objects.filter(object_id=session.pk).values_list("due_at", flat=True))
    outbox.send_due(now=at + timedelta(minutes=1))


def _invitation(message):
    (attachment,) = message.attachments
    filename, content, mimetype = attachment
    assert (filename, mimetype) == ("invitation.ics", "text/calendar")
    return parse(content)


def test_reminder_mail_carries_a_request_invitation(programme, settings):
    settings.SESSION_REMINDERS = {"j1": timedelta(days=1)}
    session = plan(programme, lieu="Ministère, bâtiment Sully, salle 12")
    _send_due_reminders(session)
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == [programme.cadre.user.email])
    assert message.subject.startswith(
        f"[Accompagnement des cadres] Rappel : Séance d'accompagnement – {programme.cadre} le "
    )
    assert "Rappel de votre rendez-vous de demain" in message.body
    assert "Lieu : Ministère, bâtiment Sully, salle 12" in message.body
    assert (
        "L'invitation jointe (fichier .ics) ajoute ce rendez-vous à votre agenda." in message.body
    )

    cal = _invitation(message)
    assert str(cal["method"]) == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == session.ics_uid()
    assert str(event["status"]) == "CONFIRMED"
    assert dt(event, "dtstart") == session.debut.replace(microsecond=0)
    assert str(event["organizer"]).startswith("mailto:")
    attendees = {str(a): a.params["CN"] for a in event.get("attendee")}
    assert set(attendees) == {
        f"mailto:{programme.cadre.user.email}",
        f"mailto:{programme.accompagnant.email}",
    }
    assert attendees[f"mailto:{programme.cadre.user.email}"] == programme.cadre.user.get_full_name()
    raw = message.attachments[0][1]
    raw = raw if isinstance(raw, str) else raw.decode()
    assert "METHOD:REQUEST" in raw and "ATTENDEE" in raw


def test_cancellation_mail_carries_a_cancel_with_the_same_uid(programme, settings):
    settings.SESSION_REMINDERS = {"j1": timedelta(days=1)}
    session = plan(programme, mode="distanciel", lien_visio=VISIO)
    _send_due_reminders(session)
    (request,) = _invitation(mail.outbox[0]).walk("VEVENT")
    mail.outbox.clear()

    session.statut = FakeSession.Statut.ANNULEE
    session.save()
    outbox.send_due()
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject.startswith("[Accompagnement des cadres] Annulation : ")
    assert "Le rendez-vous suivant est annulé" in message.body
    cal = _invitation(message)
    assert str(cal["method"]) == "CANCEL"
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == str(request["uid"]) == session.ics_uid()
    assert str(event["status"]) == "CANCELLED"
    assert event["sequence"] > request["sequence"]


def test_a_long_feed_keeps_the_nearest_sessions(client, programme, monkeypatch):
    from accompagnement import calendar

    monkeypatch.setattr(calendar, "FEED_LIMIT", 3)
    # Written latest first, so that the database's natural order is the wrong one.
    sessions = [plan(programme, days=days) for days in (50, 40, 30, 20, -10)]
    found = events(client.get(feed_url(feed_of(programme.cadre.user).token)))
    assert set(found) == {s.ics_uid() for s in sessions[-3:]}
