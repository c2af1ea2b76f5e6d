"""Hardening in production: secure cookies and session expiry, HTTPS with HSTS, the
security headers and the CSP (no inline script without the nonce) on every kind of
page, and uploaded files checked and never served from a public directory."""

import importlib
import re
import sys
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django.urls import get_resolver
from django.utils import timezone

from tests.factories import PASSWORD, make_cadre_user, make_delegue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

HARDENING = [
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_AGE",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
]


@pytest.fixture
def production(settings, monkeypatch):
    """The hardening of ``config.settings_production``, as it is, on the test settings."""
    monkeypatch.setenv(
        "SECRET_KEY", "x7Kp2Qw9Lm4Zr8Tn1Vb6Yc3Hd5Jf0Gs7Ua2Xe9Wi4Oq8Pl1Mk6Nj3Bh5Cg0Df"
    )
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")
    sys.modules.pop("config.settings_production", None)
    prod = importlib.import_module("config.settings_production")
    for name in HARDENING:
        setattr(settings, name, getattr(prod, name))
    return prod


def test_the_production_profile_asks_for_https_secure_cookies_and_short_sessions(production):
    assert production.DEBUG is False
    assert production.SECURE_SSL_REDIRECT is True
    assert production.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
    assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS and production.SECURE_HSTS_PRELOAD
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
    assert production.SESSION_COOKIE_HTTPONLY and production.CSRF_COOKIE_HTTPONLY
    assert production.SESSION_COOKIE_NAME.startswith("__Secure-")
    assert production.SESSION_COOKIE_AGE <= 8 * 3600
    assert production.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert production.X_FRAME_OPTIONS == "DENY"


def test_sign_in_over_https_sets_secure_http_only_session_cookies(client, production):
    cadre = make_cadre_user()
    client.get("/compte/login/", secure=True)
    response = client.post(
        "/compte/login/", {"login": cadre.user.email, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies["__Secure-sessionid"]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes
    assert response.cookies["__Secure-csrftoken"]["secure"]


def test_a_session_expires_after_its_age(client, production):
    cadre = make_cadre_user()
    client.post("/compte/login/", {"login": cadre.user.email, "password": PASSWORD}, secure=True)
    assert client.session.get_expiry_age() == production.SESSION_COOKIE_AGE
    assert client.get("/espace/", secure=True).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/espace/", secure=True)
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/login/")


def test_plain_http_is_redirected_to_https_except_the_health_check(client, production):
    response = client.get("/compte/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/compte/login/"
    assert client.get("/sante/").status_code == 200


SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def assert_hardened(response):
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in headers["Content-Security-Policy"].split(";")
    )
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    script_src = csp["script-src"].split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    # django-csp puts a nonce in the header only when the page used it.
    nonces = [s[len("'nonce-") : -1] for s in script_src if s.startswith("'nonce-")]
    assert len(nonces) <= 1
    inline = 0
    for attributes in SCRIPT.findall(response.content.decode()):
        if "src=" in attributes:
            assert re.search(r'src="/[^/]', attributes), attributes  # our own files only
        elif 'type="application/json"' not in attributes:  # data, not code
            inline += 1
            assert nonces and f'nonce="{nonces[0]}"' in attributes, attributes
    return inline


@pytest.mark.parametrize(
    "who, path",
    [
        (None, "/compte/login/"),
        (None, "/donnees-personnelles/"),
        (None, "/accessibilite/"),
        ("cadre", "/espace/"),
        ("cadre", "/espace/mes-donnees/"),
        ("cadre", "/espace/agenda/"),
        ("delegue", "/admin/"),
        ("delegue", "/admin/cadres/cadre/"),
        ("delegue", "/admin/tableau-de-bord/"),
    ],
)
def test_every_kind_of_page_carries_the_security_headers_and_the_csp(
    client, production, two_ministries, who, path
):
    if who == "cadre":
        client.force_login(make_cadre_user(structure=two_ministries["a"]).user)
    elif who == "delegue":
        client.force_login(make_delegue(two_ministries["a"]))
    response = client.get(path, secure=True)
    assert response.status_code == 200, path
    assert_hardened(response)


def test_the_codev_runner_countdown_is_a_script_file_of_ours(client, production):
    """The page that runs a script (the séance's countdown) loads it from /static/."""
    from tests.factories import MembreFactory, SeanceFactory

    membre = MembreFactory()
    seance = SeanceFactory(groupe=membre.groupe)
    client.force_login(membre.groupe.animateur)
    response = client.get(f"/codev/seances/{seance.pk}/", secure=True)
    assert response.status_code == 200
    assert assert_hardened(response) == 0
    assert re.search(r'<script src="/static/js/codev-runner\.js"', response.content.decode())


def test_an_inline_script_without_the_nonce_would_be_caught():
    from django.http import HttpResponse

    response = HttpResponse("<p>x</p><script>alert(1)</script>")
    headers = {
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; object-src 'none'",
    }
    for name, value in headers.items():
        response.headers[name] = value
    with pytest.raises(AssertionError):
        assert_hardened(response)


# --- Uploaded files --------------------------------------------------------------------


def test_no_model_stores_an_upload_in_a_public_directory():
    """Files stay in database rows read through views that check who asks (the HR import
    file: its author and administrators; convention PDFs: the parties and délégués): no
    FileField/ImageField whose file the web server would hand to anyone, and none of a
    library reachable from the admin (django-dsfr's logo upload is unregistered)."""
    from django.conf import settings
    from django.contrib import admin

    with_files = [
        model
        for model in apps.get_models()
        if any(isinstance(f, models.FileField) for f in model._meta.get_fields())
    ]
    ours = [
        m
        for m in with_files
        if str(settings.BASE_DIR) in apps.get_app_config(m._meta.app_label).path
        and "site-packages" not in apps.get_app_config(m._meta.app_label).path
    ]
    assert ours == []
    assert [m for m in with_files if admin.site.is_registered(m)] == []


def test_media_files_are_not_served_by_url():
    patterns = [str(p.pattern) for p in get_resolver().url_patterns]
    assert not any(p.startswith("media") for p in patterns), patterns


def test_the_only_upload_form_checks_type_and_size(settings):
    """The HR import is the one upload (tests/cadres/test_import.py drives it over HTTP:
    other types, oversized files, fake workbooks are refused)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cadres.admin_import import UploadForm

    settings.IMPORT_MAX_UPLOAD_SIZE = 100
    form = UploadForm(
        {"nature": "cadres"},
        {"fichier": SimpleUploadedFile("cadres.csv", b"nom;prenom\n" + b"x;y\n" * 50)},
    )
    assert not form.is_valid() and "fichier" in form.errors
    form = UploadForm({"nature": "cadres"}, {"fichier": SimpleUploadedFile("cadres.pdf", b"%PDF")})
    assert not form.is_valid() and "fichier" in form.errors
