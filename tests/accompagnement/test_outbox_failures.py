"""The outbox when things go wrong: a task run twice, a worker killed mid-batch, Redis
down, a mail server refusing an address. Nothing is lost and nothing is sent twice."""

import threading
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends import locmem as locmem_backend
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accompagnement.models import Demande, Notification
from accompagnement.services import outbox
from accompagnement.services.demandes import decide
from accompagnement.tasks import send_due_notifications
from config.celery import app as celery_app
from tests.accompagnement import mailbackends
from tests.celery_worker import wait_until
from tests.factories import UserFactory, make_cadre_user
from tests.fakescheme.models import FakeProgramme, FakeSession

ONE_DAY = {"j1": timedelta(days=1)}
DEAD_BROKER = "redis://127.0.0.1:6399/0"


@pytest.fixture
def misbehaving_mail(settings):
    """``use("DyingBackend")`` sends the outbox's mails through a misbehaving backend."""
    mailbackends.reset()

    def use(name):
        settings.EMAIL_BACKEND = f"tests.accompagnement.mailbackends.{name}"

    yield use
    mailbackends.state["release"].set()  # never leave a thread blocked
    mailbackends.reset()


def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def make_programmes(count, with_accompagnant=False):
    return [
        FakeProgramme.objects.create(
            cadre=make_cadre_user(), accompagnant=UserFactory() if with_accompagnant else None
        )
        for _ in range(count)
    ]


def plan(programme, days=10, **kwargs):
    return FakeSession.objects.create(
        programme=programme, debut=timezone.now() + timedelta(days=days), **kwargs
    )


def make_all_due():
    """Move every pending row a minute into the past (as if time had passed)."""
    Notification.objects.filter(statut="en_attente").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )


def latest_due():
    return max(Notification.objects.values_list("due_at", flat=True))


def statuses():
    return Counter(Notification.objects.values_list("statut", flat=True))


def message_ids():
    return [message.extra_headers["Message-ID"] for message in mail.outbox]


def recipients():
    return Counter(address for message in mail.outbox for address in message.to)


# --- a. a task run twice, two sweeps at once --------------------------------------


@pytest.mark.django_db
def test_task_run_twice_sends_each_reminder_once(programme):
    session = plan(programme)
    make_all_due()

    assert send_due_notifications() == 4  # j7 and j1, to the cadre and the accompanist
    assert send_due_notifications() == 0
    assert outbox.send_due() == (0, 0)
    assert outbox.send_due() == (0, 0)

    assert len(mail.outbox) == 4
    assert len(set(message_ids())) == 4
    assert recipients() == {programme.cadre.user.email: 2, programme.accompagnant.email: 2}
    assert all(
        message.subject.startswith("[Accompagnement des cadres] Rappel :")
        for message in mail.outbox
    )
    rows = Notification.objects.filter(object_id=session.pk)
    assert {(r.statut, r.attempts) for r in rows} == {("envoyee", 1)}
    assert all(r.sent_at is not None for r in rows)


@pytest.mark.django_db
def test_saving_twice_writes_no_second_reminder(programme):
    session = plan(programme)
    FakeSession.objects.get(pk=session.pk).save()  # a second worker/save, same times
    assert Notification.objects.filter(object_id=session.pk).count() == 4
    make_all_due()
    send_due_notifications()
    send_due_notifications()
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_claimed_rows_are_not_claimed_again_before_the_claim_times_out(programme):
    plan(programme)
    at = latest_due() + timedelta(minutes=1)
    # A sweep claims the batch, then its worker disappears before sending anything.
    claimed = outbox._claim(outbox.BATCH_SIZE, at)
    assert len(claimed) == 4
    assert statuses() == {"envoi": 4}

    assert outbox.send_due(now=at + timedelta(minutes=1)) == (0, 0)
    assert outbox.send_due(now=at + outbox.CLAIM_TIMEOUT - timedelta(seconds=1)) == (0, 0)
    assert mail.outbox == []

    assert outbox.send_due(now=at + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)) == (4, 4)
    assert outbox.send_due(now=at + outbox.CLAIM_TIMEOUT + timedelta(minutes=2)) == (0, 0)
    assert len(mail.outbox) == 4
    assert statuses() == {"envoyee": 4}


def _in_thread(target):
    """Run ``target`` in a thread with its own database connection; returns a
    ``join()`` giving the result (or raising its exception)."""
    result = {}

    def run():
        try:
            result["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(timeout=15)
        assert not thread.is_alive(), "the concurrent sweep did not finish"
        if "error" in result:
            raise result["error"]
        return result["value"]

    return join


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_sweep_skips_rows_locked_by_another(programme):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE SKIP LOCKED) need PostgreSQL")
    plan(programme)
    at = latest_due() + timedelta(minutes=1)
    with transaction.atomic():
        # This connection is in the middle of claiming: the rows are locked.
        locked = list(Notification.objects.select_for_update())
        assert len(locked) == 4
        # Another worker (another connection) neither waits nor takes them.
        assert _in_thread(lambda: outbox.send_due(now=at))() == (0, 0)
    assert mail.outbox == []
    assert statuses() == {"en_attente": 4}
    assert outbox.send_due(now=at) == (4, 4)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_mail_once(programme, misbehaving_mail):
    plan(programme)
    at = latest_due() + timedelta(minutes=1)
    misbehaving_mail("BlockingBackend")
    first = _in_thread(lambda: outbox.send_due(now=at))
    assert mailbackends.state["started"].wait(timeout=10)
    # The first sweep holds the batch (slow mail server): the second finds nothing.
    assert outbox.send_due(now=at) == (0, 0)
    assert send_due_notifications() == 0
    mailbackends.state["release"].set()
    assert first() == (4, 4)
    assert len(mail.outbox) == 4
    assert len(set(message_ids())) == 4
    assert statuses() == {"envoyee": 4}


# --- b. a worker killed mid-batch --------------------------------------------------


@pytest.mark.django_db
def test_worker_killed_mid_batch_loses_nothing_and_resends_nothing(settings, misbehaving_mail):
    settings.SESSION_REMINDERS = ONE_DAY
    settings.OUTBOX_SMTP_CONNECTIONS = 1  # one message at a time: the exact figures below
    for programme in make_programmes(5):
        plan(programme)
    assert Notification.objects.count() == 5
    at = latest_due() + timedelta(minutes=1)

    misbehaving_mail("DyingBackend")
    mailbackends.state["die_at"] = 3
    with pytest.raises(SystemExit):
        outbox.send_due(now=at)
    first_run = list(mail.outbox)
    assert len(first_run) == 2
    assert statuses() == {"envoyee": 2, "envoi": 3}  # nothing lost, nothing failed

    # Restarted at once: the dead worker's claims are not taken over yet.
    locmem(settings)
    assert outbox.send_due(now=at + timedelta(minutes=1)) == (0, 0)
    assert len(mail.outbox) == 2
    # After the claim timeout, the next sweep sends the rest.
    assert outbox.send_due(now=at + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)) == (3, 3)
    assert outbox.send_due(now=at + outbox.CLAIM_TIMEOUT + timedelta(minutes=2)) == (0, 0)

    assert len(mail.outbox) == 5
    expected = {
        f"<notification-{pk}@testserver>"
        for pk in Notification.objects.values_list("pk", flat=True)
    }
    assert set(message_ids()) == expected
    assert len(message_ids()) == 5
    assert set(recipients().values()) == {1}
    assert set(recipients()) == set(Notification.objects.values_list("email", flat=True))
    assert statuses() == {"envoyee": 5}
    # Rows sent before the crash kept their single attempt.
    assert sorted(Notification.objects.values_list("attempts", flat=True)) == [1, 1, 2, 2, 2]


@pytest.mark.django_db
def test_worker_killed_while_several_connections_send_loses_nothing_and_resends_nothing(
    settings, misbehaving_mail
):
    settings.SESSION_REMINDERS = ONE_DAY
    settings.OUTBOX_SMTP_CONNECTIONS = 4
    for programme in make_programmes(12):
        plan(programme)
    at = latest_due() + timedelta(minutes=1)
    misbehaving_mail("DyingBackend")
    mailbackends.state["die_at"] = 6
    with pytest.raises(SystemExit):
        outbox.send_due(now=at)
    # Messages in flight on the other connections finished and were marked; no new
    # one was started after the kill; every message that left has its row marked.
    before = len(mail.outbox)
    assert 5 <= before < 12
    assert statuses() == {"envoyee": before, "envoi": 12 - before}

    locmem(settings)
    later = at + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)
    assert outbox.send_due(now=later) == (12 - before, 12 - before)
    assert len(mail.outbox) == 12
    assert len(set(message_ids())) == 12
    assert statuses() == {"envoyee": 12}


@pytest.mark.django_db
def test_several_connections_carry_a_batch_and_are_all_closed(settings):
    """The batch is spread over the configured connections, each closed at the end."""
    settings.OUTBOX_SMTP_CONNECTIONS = 3
    opened, closed = [], []

    class CountingBackend(locmem_backend.EmailBackend):
        def open(self):
            opened.append(self)
            return super().open()

        def close(self):
            closed.append(self)
            return super().close()

    for programme in make_programmes(10):
        plan(programme)
    make_all_due()
    with mock.patch("accompagnement.services.outbox.get_connection", CountingBackend):
        claimed, sent = outbox.send_due()
    assert claimed == sent == Notification.objects.count() > 10
    assert 1 <= len(opened) <= 3
    assert set(closed) == set(opened)
    assert statuses() == {"envoyee": sent}
    assert len(set(message_ids())) == sent


@pytest.mark.django_db
def test_worker_killed_in_the_task_loop_then_restarted(settings, misbehaving_mail):
    """Same through the Celery task (what beat runs), with more than one batch."""
    settings.SESSION_REMINDERS = ONE_DAY
    settings.OUTBOX_SMTP_CONNECTIONS = 1
    for programme in make_programmes(5):
        plan(programme)
    make_all_due()
    misbehaving_mail("DyingBackend")
    mailbackends.state["die_at"] = 4
    with mock.patch.object(outbox, "BATCH_SIZE", 2), pytest.raises(SystemExit):
        send_due_notifications()
    assert len(mail.outbox) == 3
    assert statuses() == {"envoyee": 3, "envoi": 1, "en_attente": 1}

    locmem(settings)
    with mock.patch.object(outbox, "BATCH_SIZE", 2):
        assert send_due_notifications() == 1  # the unclaimed row
        later = timezone.now() + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            assert send_due_notifications() == 1  # the dead worker's claim
        assert send_due_notifications() == 0
    assert len(mail.outbox) == 5
    assert set(recipients().values()) == {1}
    assert len(set(message_ids())) == 5


# --- c. Redis unreachable ----------------------------------------------------------


def _cancel(session):
    session.statut = FakeSession.Statut.ANNULEE
    session.save()


@pytest.mark.django_db
def test_redis_down_the_web_keeps_working_and_the_sweep_catches_up(
    cadre_a, m, submit_demande, django_capture_on_commit_callbacks, caplog
):
    programme = FakeProgramme.objects.create(cadre=cadre_a, accompagnant=UserFactory())
    session = plan(programme)
    down = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(send_due_notifications, "delay", side_effect=down) as delay:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            _cancel(session)
        with django_capture_on_commit_callbacks(execute=True):
            demande = submit_demande(cadre_a)
        with django_capture_on_commit_callbacks(execute=True):
            decide(demande, Demande.Statut.ACCEPTEE, by=m["delegue_a"])
    # Each due-now row asked for a worker after its commit (a received request, two
    # cancellations, a decision); none answered, and none of this reached the caller.
    assert delay.call_count == 4
    assert "Broker unreachable" in caplog.text
    assert mail.outbox == []
    due = Notification.objects.due()
    assert Counter(due.values_list("kind", flat=True)) == {
        "session_annulation": 2,
        "demande_recue": 1,
        "demande_decision": 1,
    }
    assert Demande.objects.get(pk=demande.pk).statut == Demande.Statut.ACCEPTEE
    assert FakeSession.objects.get(pk=session.pk).statut == FakeSession.Statut.ANNULEE

    # Redis is back: the beat sweep sends everything, once.
    assert send_due_notifications() == 4
    assert send_due_notifications() == 0
    subjects = sorted(message.subject for message in mail.outbox)
    assert len(subjects) == 4
    assert sum("Annulation :" in s for s in subjects) == 2
    assert "[Accompagnement des cadres] Votre demande de coaching : acceptée" in subjects
    assert any(
        s.startswith("[Accompagnement des cadres] Nouvelle demande de coaching") for s in subjects
    )


@pytest.fixture
def dead_broker():
    """Celery really publishing, to a Redis port where nobody listens."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url

    def drop_connections():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.task_always_eager = False
    conf.broker_url = DEAD_BROKER
    drop_connections()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = saved
        drop_connections()


@pytest.mark.django_db
def test_a_dead_broker_fails_fast_and_the_rows_wait(
    dead_broker, programme, django_capture_on_commit_callbacks, caplog
):
    session = plan(programme)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _cancel(session)
    elapsed = time.monotonic() - started
    assert callbacks  # a worker was asked for, and the broker was really tried
    assert elapsed < 10, f"saving a session waited {elapsed:.1f}s for a dead broker"
    assert "Broker unreachable" in caplog.text
    assert mail.outbox == []
    assert Counter(Notification.objects.values_list("kind", "statut")) == {
        ("session_annulation", "en_attente"): 2,
        ("session_rappel_j7", "annulee"): 2,
        ("session_rappel_j1", "annulee"): 2,
    }


@pytest.mark.django_db
def test_rows_written_while_the_broker_was_dead_go_out_once_it_is_back(
    programme, django_capture_on_commit_callbacks
):
    session = plan(programme)
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, DEAD_BROKER
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _cancel(session)
    finally:
        conf.task_always_eager, conf.broker_url = saved
        celery_app._pool = celery_app.amqp._producer_pool = None
    assert mail.outbox == []
    assert send_due_notifications() == 2
    assert send_due_notifications() == 0
    assert recipients() == {programme.cadre.user.email: 1, programme.accompagnant.email: 1}


# --- d. a real worker on Redis -----------------------------------------------------


@pytest.fixture
def worker(celery_worker_thread):
    return celery_worker_thread


@pytest.fixture
def task_results():
    """Return values of ``send_due_notifications`` as the worker finishes each run."""
    from celery.signals import task_postrun

    results = []

    def collect(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == send_due_notifications.name:
            results.append(retval)

    task_postrun.connect(collect, weak=False)
    yield results
    task_postrun.disconnect(collect)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_due_reminder_once(worker, task_results, programme):
    # The day-before reminder falls due in 30 s; the week-before one is already past.
    session = FakeSession.objects.create(
        programme=programme, debut=timezone.now() + timedelta(days=1, seconds=30)
    )
    rows = Notification.objects.filter(object_id=session.pk)
    assert set(rows.values_list("kind", flat=True)) == {"session_rappel_j1"}
    rows.update(due_at=timezone.now())

    send_due_notifications.delay()
    send_due_notifications.delay()  # a kick and the beat sweep at the same time
    wait_until(lambda: len(task_results) == 2, worker, "the worker did not run both tasks")
    assert task_results == [2, 0]
    send_due_notifications.delay()  # the next beat sweep
    wait_until(lambda: len(task_results) == 3, worker, "the worker did not run the third")
    assert task_results[2] == 0

    assert set(rows.values_list("statut", flat=True)) == {"envoyee"}
    assert recipients() == {programme.cadre.user.email: 1, programme.accompagnant.email: 1}
    assert all("Rappel de votre rendez-vous de demain" in message.body for message in mail.outbox)


# --- e. one failing message does not block the others ------------------------------


@pytest.mark.django_db
def test_a_refused_address_does_not_block_the_others_and_fails_after_max_attempts(
    settings, misbehaving_mail, programme
):
    settings.SESSION_REMINDERS = ONE_DAY
    plan(programme)
    bad = programme.accompagnant.email
    good = programme.cadre.user.email
    misbehaving_mail("RefusingBackend")
    mailbackends.state["refused"] = {bad}
    at = latest_due() + timedelta(minutes=1)

    assert outbox.send_due(now=at) == (2, 1)
    assert recipients() == {good: 1}
    row = Notification.objects.get(email=bad)
    assert row.statut == "en_attente"
    assert row.attempts == 1
    assert row.claimed_at is None
    assert bad in row.last_error and "User unknown" in row.last_error

    # Each later sweep tries again, until MAX_ATTEMPTS.
    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        at += timedelta(days=1)
        assert outbox.send_due(now=at) == (1, 0)
        row.refresh_from_db()
        assert row.attempts == attempt
    assert row.statut == "echec"
    assert outbox.send_due(now=at + timedelta(days=1)) == (0, 0)
    assert mailbackends.state["calls"] == 1 + outbox.MAX_ATTEMPTS
    assert Notification.objects.get(email=good).statut == "envoyee"
    assert recipients() == {good: 1}


@pytest.mark.django_db
def test_a_row_that_cannot_be_rendered_does_not_block_the_others(programme):
    plan(programme)
    broken = outbox.notify("genre_inconnu", programme.cadre, user=programme.accompagnant)
    make_all_due()
    claimed, sent = outbox.send_due()
    assert (claimed, sent) == (5, 4)
    broken.refresh_from_db()
    assert broken.statut == "en_attente"
    assert broken.attempts == 1
    assert "genre_inconnu" in broken.last_error
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_failing_rows_are_retried_later_not_in_the_same_sweep(settings, misbehaving_mail):
    """With more failing rows than a batch, the task loop must not spend every attempt
    of a row within one sweep (a short outage would then fail them for good)."""
    settings.SESSION_REMINDERS = ONE_DAY
    programmes = make_programmes(3)
    for programme in programmes:
        plan(programme)
    make_all_due()
    refused = {p.cadre.user.email for p in programmes[:2]}
    misbehaving_mail("RefusingBackend")
    mailbackends.state["refused"] = refused
    with mock.patch.object(outbox, "BATCH_SIZE", 2):
        send_due_notifications()
    assert recipients() == {programmes[2].cadre.user.email: 1}
    failing = Notification.objects.filter(email__in=refused)
    assert {(r.statut, r.attempts) for r in failing} == {("en_attente", 1)}
    assert all(r.due_at > timezone.now() for r in failing)  # retried later, with a delay

    # The address is accepted again: the next sweeps after the delay send them, once.
    mailbackends.state["refused"] = set()
    later = timezone.now() + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert send_due_notifications() == 2
        assert send_due_notifications() == 0
    assert set(recipients().values()) == {1}
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_mail_server_down_gives_the_batch_back_without_spending_attempts(
    settings, misbehaving_mail, programme
):
    plan(programme)
    make_all_due()
    misbehaving_mail("RefusingBackend")
    mailbackends.state["open_error"] = ConnectionRefusedError("SMTP down")
    for _ in range(outbox.MAX_ATTEMPTS + 1):
        with pytest.raises(ConnectionRefusedError):
            send_due_notifications()
    assert {(r.statut, r.attempts, r.claimed_at) for r in Notification.objects.all()} == {
        ("en_attente", 0, None)
    }
    mailbackends.state["open_error"] = None
    assert send_due_notifications() == 4
    assert len(mail.outbox) == 4


# --- f. reminder delays come from the settings -------------------------------------


@pytest.mark.django_db
def test_reminder_delays_come_from_the_settings(settings, programme):
    settings.SESSION_REMINDERS = {"j3": timedelta(days=3)}
    session = plan(programme)
    rows = Notification.objects.filter(object_id=session.pk)
    assert set(rows.values_list("kind", flat=True)) == {"session_rappel_j3"}
    assert {session.debut - r.due_at for r in rows} == {timedelta(days=3)}

    at = latest_due() + timedelta(minutes=1)
    assert outbox.send_due(now=at - timedelta(minutes=2)) == (0, 0)  # not yet
    assert outbox.send_due(now=at) == (2, 2)
    assert statuses() == {"envoyee": 2}
    message = mail.outbox[0]
    assert "Rappel de votre rendez-vous dans 3 jours" in message.body
    assert message.attachments[0][0] == "invitation.ics"


@pytest.mark.django_db
def test_reminders_of_a_delay_no_longer_configured_are_cancelled_on_change(settings, programme):
    """A deploy changes the delays: a session rescheduled or cancelled afterwards must
    not keep the old-delay reminders for its old time."""
    session = plan(programme)  # j7 and j1 (the default)
    settings.SESSION_REMINDERS = {"j3": timedelta(days=3)}
    session.debut += timedelta(days=2)
    session.save()
    pending = Notification.objects.filter(object_id=session.pk, statut="en_attente")
    assert set(pending.values_list("kind", flat=True)) == {"session_rappel_j3"}
    assert {session.debut - r.due_at for r in pending} == {timedelta(days=3)}

    _cancel(session)
    pending = Notification.objects.filter(object_id=session.pk, statut="en_attente")
    assert set(pending.values_list("kind", flat=True)) == {"session_annulation"}
