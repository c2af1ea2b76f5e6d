"""Sign-in goes through allauth, the admin's own password form is never served, and
staff (délégués, administrators) cannot use anything before activating TOTP."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.urls import reverse

from cadres.models import User
from tests.factories import (
    PASSWORD,
    StructureFactory,
    UserFactory,
    make_admin,
    make_cadre_user,
    make_delegue,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

LOGIN = "/compte/login/"
MFA_AUTHENTICATE = "/compte/2fa/authenticate/"
MFA_WARNING = "activez la double authentification"


def template_names(response):
    return {t.name for t in getattr(response, "templates", []) or []}


def walk(client, url, limit=8):
    """Follow redirects by hand, keeping every response of the chain."""
    chain = [client.get(url)]
    while chain[-1].status_code in (301, 302) and len(chain) <= limit:
        chain.append(client.get(chain[-1]["Location"]))
    return chain


def current_code(secret):
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


# --- anonymous -------------------------------------------------------------------


def test_anonymous_portal_redirects_to_allauth_login(client):
    response = client.get("/espace/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/espace/"


def test_anonymous_admin_never_gets_the_admin_password_form(client):
    chain = walk(client, "/admin/")
    for response in chain:
        assert "admin/login.html" not in template_names(response)
    final = chain[-1]
    assert final.status_code == 200
    assert final.request["PATH_INFO"] == LOGIN
    assert "account/login.html" in template_names(final)
    assert 'name="login"' in final.content.decode()
    # The admin is where the user goes back after signing in.
    assert chain[-2]["Location"].startswith(f"{LOGIN}?next=/admin/")


def test_anonymous_admin_login_url_redirects_to_allauth(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    response = client.get("/admin/login/?next=https://evil.example/")
    assert "evil.example" not in response["Location"]


# --- password sign-in ------------------------------------------------------------


def test_cadre_signs_in_with_password_and_lands_on_the_portal(client):
    cadre = make_cadre_user()
    response = client.post(LOGIN, {"login": cadre.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert str(logged_in_user_id(client)) == str(cadre.user.pk)
    assert client.get("/espace/").status_code == 200


def test_wrong_password_is_refused_in_french(client):
    user = UserFactory()
    response = client.post(LOGIN, {"login": user.email, "password": "pas-le-bon-mot-de-passe"})
    assert response.status_code == 200
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in response.content.decode()
    assert logged_in_user_id(client) is None
    assert client.get("/espace/").status_code == 302


def test_signup_is_closed(client):
    before = User.objects.count()
    response = client.get("/compte/signup/")
    assert response.status_code == 200
    assert "account/signup_closed.html" in template_names(response)
    response = client.post(
        "/compte/signup/",
        {
            "email": "intrus@example.com",
            "password1": "un-mot-de-passe-tres-long-42",
            "password2": "un-mot-de-passe-tres-long-42",
        },
    )
    assert "account/signup_closed.html" in template_names(response)
    assert User.objects.count() == before
    assert not User.objects.filter(email="intrus@example.com").exists()
    assert logged_in_user_id(client) is None


def test_authenticated_non_staff_gets_403_on_admin_login(client):
    cadre = make_cadre_user()
    client.force_login(cadre.user)
    assert client.get("/admin/login/").status_code == 403
    response = client.get("/admin/")
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 403


# --- MFA required for staff ------------------------------------------------------


def _assert_sent_to_totp_activation(client, response, path):
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa_activate_totp')}?next={path}"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(MFA_WARNING in m for m in messages), messages


@pytest.mark.parametrize("path", ["/espace/", "/admin/", "/admin/cadres/cadre/"])
def test_staff_without_totp_is_sent_to_activation(client, path):
    user = make_delegue(StructureFactory(), mfa=False)
    client.force_login(user)
    _assert_sent_to_totp_activation(client, client.get(path), path)


def test_administrator_without_totp_is_sent_to_activation_too(client):
    user = make_admin(mfa=False)
    client.force_login(user)
    _assert_sent_to_totp_activation(client, client.get("/admin/"), "/admin/")


def test_staff_without_totp_can_reach_the_activation_page(client):
    user = make_delegue(StructureFactory(), mfa=False)
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    # allauth asks to confirm the password before activating TOTP: that step must
    # stay reachable (no redirect loop with the middleware).
    chain = walk(client, response["Location"])
    assert chain[-1].status_code == 200, [r.get("Location") for r in chain]
    if chain[-1].request["PATH_INFO"] == reverse("account_reauthenticate"):
        response = client.post(
            chain[-1].request["PATH_INFO"] + "?" + chain[-1].request["QUERY_STRING"],
            {"password": PASSWORD},
        )
        chain = walk(client, response["Location"])
    activation = chain[-1]
    assert activation.status_code == 200
    assert activation.request["PATH_INFO"] == reverse("mfa_activate_totp")
    assert "mfa/totp/activate_form.html" in template_names(activation)


def test_setting_off_lets_staff_without_totp_in(client, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    user = make_delegue(StructureFactory(), mfa=False)
    client.force_login(user)
    assert client.get("/espace/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_staff_with_totp_signs_in_with_the_code(client):
    user = make_delegue(StructureFactory(), mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(MFA_AUTHENTICATE)
    assert logged_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302

    good = current_code(secret)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(MFA_AUTHENTICATE, {"code": wrong})
    assert response.status_code == 200
    assert "Code incorrect." in response.content.decode()
    assert logged_in_user_id(client) is None

    response = client.post(MFA_AUTHENTICATE, {"code": good})
    assert response.status_code == 302
    # A délégué lands on their dashboard.
    assert response["Location"] == reverse("admin_dashboard")
    assert str(logged_in_user_id(client)) == str(user.pk)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "admin/index.html" in template_names(response)
