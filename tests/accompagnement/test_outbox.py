"""The outbox: reminders written with the change, sent exactly once by the sweep."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accompagnement.models import Notification
from accompagnement.services import outbox
from accompagnement.tasks import send_due_notifications

pytestmark = pytest.mark.django_db


def sweep(at):
    claimed, sent = outbox.send_due(now=at)
    return sent


def test_saving_a_session_writes_its_reminders(make_session, programme):
    session = make_session(days=10)
    rows = Notification.objects.filter(object_id=session.pk, statut="en_attente")
    # two delays (7 days, 1 day) x two participants
    assert rows.count() == 4
    assert {r.email for r in rows} == {programme.cadre.user.email, programme.accompagnant.email}
    assert {session.debut - r.due_at for r in rows} == {timedelta(days=7), timedelta(days=1)}


def test_reminders_go_out_once_even_if_the_sweep_runs_twice(make_session):
    session = make_session(days=10)
    at = session.debut - timedelta(days=7) + timedelta(minutes=1)
    assert sweep(at) == 2
    assert sweep(at) == 0
    send_due_notifications()
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert "Rappel" in message.subject
    assert message.alternatives[0][1] == "text/html"
    assert message.attachments[0][0] == "invitation.ics"


def test_rescheduling_replaces_pending_reminders(make_session):
    session = make_session(days=10)
    session.debut += timedelta(days=3)
    session.save()
    pending = Notification.objects.filter(object_id=session.pk, statut="en_attente")
    assert pending.count() == 4
    assert {session.debut - r.due_at for r in pending} == {timedelta(days=7), timedelta(days=1)}
    assert Notification.objects.filter(object_id=session.pk, statut="annulee").count() == 4


def test_cancelling_sends_one_cancellation_per_participant(make_session):
    session = make_session(days=10)
    session.statut = session.Statut.ANNULEE
    session.save()
    session.save()
    assert not Notification.objects.filter(
        object_id=session.pk, statut="en_attente", kind__startswith="session_rappel"
    ).exists()
    sweep(timezone.now())
    assert len(mail.outbox) == 2
    ics = mail.outbox[0].attachments[0][1]
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics
