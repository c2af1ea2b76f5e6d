"""Inviting a cadre: the admin action records the invitation, the mail leaves after
commit (or with the sweep when the broker is down), the link sets the password once."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cadres.models import Invitation, User
from cadres.tasks import send_invitation, send_pending_invitations
from config.celery import app as celery_app
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

CHANGELIST = reverse("admin:cadres_cadre_changelist")
LINK = re.compile(r"http://testserver(/invitation/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/)")
NEW_PASSWORD = "Tournesol-violet-au-jardin-2026"


def invite_through_admin(client, user, *cadres):
    client.force_login(user)
    return client.post(
        CHANGELIST, {"action": "inviter", "_selected_action": [c.pk for c in cadres]}
    )


def link_in(message):
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def invited(client, two_ministries, django_capture_on_commit_callbacks):
    """Cadre A invited by their délégué through the admin action, mail sent."""
    m = two_ministries
    with django_capture_on_commit_callbacks(execute=True):
        response = invite_through_admin(client, m["delegue_a"], m["cadre_a"])
    assert response.status_code == 302
    client.logout()
    m["cadre_a"].refresh_from_db()
    return m["cadre_a"]


# --- the admin action -------------------------------------------------------------


def test_delegue_invites_a_cadre_of_their_perimeter(
    client, two_ministries, django_capture_on_commit_callbacks
):
    m = two_ministries
    cadre = m["cadre_a"]
    assert cadre.user is None
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = invite_through_admin(client, m["delegue_a"], cadre)
        assert response.status_code == 302
        assert response["Location"] == CHANGELIST
        # Before commit: the row is recorded, nothing has left yet.
        assert mail.outbox == []
    assert len(callbacks) == 1

    invitation = Invitation.objects.get()
    cadre.refresh_from_db()
    assert cadre.user is not None
    assert invitation.user == cadre.user
    assert invitation.invite_par == m["delegue_a"]
    assert invitation.envoyee_le is None
    assert cadre.user.email == cadre.email
    assert not cadre.user.has_usable_password()
    assert not cadre.user.is_staff

    callbacks[0]()  # the commit
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cadre.email]
    assert message.subject.startswith("[Accompagnement des cadres]")
    assert "mot de passe" in message.body.lower()
    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    path = link_in(message)
    assert path in html
    assert path.startswith("/invitation/")
    invitation.refresh_from_db()
    assert invitation.envoyee_le is not None
    assert invitation.acceptee_le is None


def test_action_confirms_in_french(client, two_ministries, django_capture_on_commit_callbacks):
    m = two_ministries
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(m["delegue_a"])
        response = client.post(
            CHANGELIST,
            {"action": "inviter", "_selected_action": [m["cadre_a"].pk]},
            follow=True,
        )
    assert "1 invitation(s) enregistrée(s), envoi en cours." in response.content.decode()


def test_delegue_cannot_invite_outside_their_perimeter(
    client, two_ministries, django_capture_on_commit_callbacks
):
    m = two_ministries
    with django_capture_on_commit_callbacks(execute=True):
        invite_through_admin(client, m["delegue_b"], m["cadre_a"])
    assert not Invitation.objects.exists()
    m["cadre_a"].refresh_from_db()
    assert m["cadre_a"].user is None
    assert mail.outbox == []
    assert not User.objects.filter(email=m["cadre_a"].email).exists()


def test_invitation_reuses_an_existing_account_with_the_same_email(
    client, two_ministries, django_capture_on_commit_callbacks
):
    m = two_ministries
    existing = UserFactory(email=m["cadre_a"].email.upper())
    with django_capture_on_commit_callbacks(execute=True):
        invite_through_admin(client, m["delegue_a"], m["cadre_a"])
    m["cadre_a"].refresh_from_db()
    assert m["cadre_a"].user == existing
    assert User.objects.filter(email__iexact=m["cadre_a"].email).count() == 1


# --- following the link -------------------------------------------------------------


def test_invitation_link_sets_the_password_once(client, invited):
    path = link_in(mail.outbox[0])
    user = invited.user

    response = client.get(path)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="new_password1"' in content
    assert 'name="new_password2"' in content

    response = client.post(
        path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert response.status_code == 200
    assert "Les deux mots de passe ne correspondent pas." in response.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert Invitation.objects.get().acceptee_le is None

    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Invitation.objects.get().acceptee_le is not None
    assert client.session.get(SESSION_KEY) is None  # signing in is the next step

    response = client.post("/compte/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert str(client.session.get(SESSION_KEY)) == str(user.pk)
    client.logout()

    # Single use: the token hashes the password, which has now changed.
    response = client.get(path)
    assert response.status_code == 404
    assert "invalide ou expiré" in response.content.decode()
    response = client.post(path, {"new_password1": "Autre-chose-2026!", "new_password2": "x"})
    assert response.status_code == 404
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_weak_password_is_refused(client, invited):
    path = link_in(mail.outbox[0])
    response = client.post(path, {"new_password1": "motdepasse", "new_password2": "motdepasse"})
    assert response.status_code == 200
    assert "Ce mot de passe est trop court" in response.content.decode()
    invited.user.refresh_from_db()
    assert not invited.user.has_usable_password()


def test_tampered_token_is_refused(client, invited):
    match = LINK.search(mail.outbox[0].body)
    token = match.group("token")
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    path = reverse("invitation_accept", args=[match.group("uid"), tampered])
    response = client.get(path)
    assert response.status_code == 404
    assert "invalide ou expiré" in response.content.decode()
    other = UserFactory()
    # Someone else's uid with this token does not work either.
    path = reverse("invitation_accept", args=[urlsafe_base64_encode(force_bytes(other.pk)), token])
    assert client.get(path).status_code == 404
    assert client.get("/invitation/pas-un-uid/abc-def/").status_code == 404


# --- the tasks ----------------------------------------------------------------------


def test_send_invitation_is_idempotent(db):
    user = UserFactory()
    invitation = Invitation.objects.create(user=user)
    assert send_invitation(invitation.pk) is True
    assert send_invitation(invitation.pk) is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    invitation.refresh_from_db()
    sent_at = invitation.envoyee_le
    assert sent_at is not None
    send_invitation.delay(invitation.pk)  # eager in tests: same code path as the worker
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.envoyee_le == sent_at


def test_sweep_sends_only_old_unsent_invitations(db):
    now = timezone.now()
    lost = Invitation.objects.create(user=UserFactory(), cree_le=now - timedelta(minutes=2))
    fresh = Invitation.objects.create(user=UserFactory())  # its own task is on its way
    sent = Invitation.objects.create(
        user=UserFactory(),
        cree_le=now - timedelta(minutes=10),
        envoyee_le=now - timedelta(minutes=9),
    )
    assert send_pending_invitations() == 1
    assert [m.to for m in mail.outbox] == [[lost.user.email]]
    lost.refresh_from_db()
    fresh.refresh_from_db()
    sent.refresh_from_db()
    assert lost.envoyee_le is not None
    assert fresh.envoyee_le is None
    assert sent.envoyee_le == now - timedelta(minutes=9)
    assert send_pending_invitations() == 0
    assert len(mail.outbox) == 1


# --- broker down --------------------------------------------------------------------


@pytest.fixture
def broker_down():
    """Real publishing (not eager) to a broker nobody listens on."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.task_always_eager = False
    conf.broker_url = "redis://127.0.0.1:6390/0"
    reset_pools()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = saved
        reset_pools()


def test_invitation_survives_a_broker_outage_and_the_sweep_sends_it(
    client, two_ministries, broker_down, django_capture_on_commit_callbacks, caplog
):
    m = two_ministries
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = invite_through_admin(client, m["delegue_a"], m["cadre_a"])
    elapsed = time.monotonic() - started
    assert len(callbacks) == 1  # the publish was attempted, and failed quietly
    assert response.status_code == 302
    assert elapsed < 10, f"the request hung {elapsed:.1f}s on the broker"
    assert "left to the sweep" in caplog.text
    invitation = Invitation.objects.get()
    assert invitation.user.cadre == m["cadre_a"]
    assert invitation.envoyee_le is None
    assert mail.outbox == []

    # Later, the beat sweep (running in a worker) catches up.
    Invitation.objects.update(cree_le=timezone.now() - timedelta(minutes=2))
    assert send_pending_invitations() == 1
    assert send_pending_invitations() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [m["cadre_a"].email]
    invitation.refresh_from_db()
    assert invitation.envoyee_le is not None
