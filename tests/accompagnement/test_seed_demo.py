"""The demo data command: believable, complete, safe to run twice."""

import re
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import validate_totp_code
from allauth.mfa.utils import decrypt
from django.core.management import CommandError, call_command
from django.urls import reverse

from accompagnement.management.commands.seed_demo import DEMO_PASSWORD
from cadres.models import Cadre, Role, Structure, User, Vivier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

DELEGUE_INTERIEUR = "delegue.interieur@demo.gouv.fr"
STAFF_EMAILS = {"admin@demo.gouv.fr", DELEGUE_INTERIEUR, "delegue.economie@demo.gouv.fr"}


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Structure, Cadre, User, Role, Vivier, Authenticator)
    }


def secret_of(email):
    authenticator = Authenticator.objects.get(user__email=email, type=Authenticator.Type.TOTP)
    return decrypt(authenticator.data["secret"])


@pytest.fixture
def seeded():
    return seed()


def test_seed_creates_the_demo_world(seeded):
    ministries = Structure.objects.filter(type=Structure.Type.MINISTERE, parent=None)
    assert ministries.count() == 2
    assert 45 <= Cadre.objects.count() <= 60
    for ministry in ministries:
        subtree = Structure.objects.subtree_of([ministry])
        assert subtree.count() > 1
        assert Cadre.objects.filter(structure__in=subtree).count() >= 20
        delegues = Role.objects.filter(kind=Role.Kind.DELEGUE, structures=ministry)
        assert delegues.count() == 1, ministry
    assert Role.objects.filter(kind=Role.Kind.DELEGUE).count() == 2
    for role in Role.objects.filter(kind=Role.Kind.DELEGUE):
        assert role.structures.exists()
        assert role.user.is_staff and not role.user.is_superuser
    admin = User.objects.get(email="admin@demo.gouv.fr")
    assert admin.roles.filter(kind=Role.Kind.ADMINISTRATEUR).exists()
    assert admin.is_superuser and admin.is_staff
    for kind in (Role.Kind.COACH, Role.Kind.MENTOR, Role.Kind.ANIMATEUR):
        role = Role.objects.get(kind=kind)
        assert not role.user.is_staff

    cadre = Cadre.objects.get(user__email="cadre@demo.gouv.fr")
    assert cadre.email == "cadre@demo.gouv.fr"
    assert cadre.user.check_password(DEMO_PASSWORD)

    staff = set(User.objects.filter(is_staff=True).values_list("email", flat=True))
    assert staff == STAFF_EMAILS
    with_totp = set(
        Authenticator.objects.filter(type=Authenticator.Type.TOTP).values_list(
            "user__email", flat=True
        )
    )
    assert with_totp >= STAFF_EMAILS


def test_seed_prints_the_password_and_the_totp_secrets(seeded):
    assert DEMO_PASSWORD in seeded
    for email in STAFF_EMAILS:
        line = next(line for line in seeded.splitlines() if email in line)
        assert secret_of(email) in line


def test_seed_twice_creates_no_duplicate(seeded):
    before = counts()
    again = seed()
    assert counts() == before
    # The same secrets are shown again (the authenticator app keeps working).
    for email in STAFF_EMAILS:
        assert secret_of(email) in again


def test_demo_delegue_sees_only_interieur_cadres(client, seeded):
    delegue = User.objects.get(email=DELEGUE_INTERIEUR)
    interieur = Structure.objects.get(sigle="MIOM", parent=None)
    inside = set(Cadre.objects.filter(structure__chemin__startswith=interieur.chemin))
    assert inside
    client.force_login(delegue)
    response = client.get(reverse("admin:cadres_cadre_changelist"), {"all": ""})
    assert response.status_code == 200
    listed = set(response.context["cl"].queryset)
    assert listed == inside
    assert all(c.structure.chemin.startswith(interieur.chemin) for c in listed)


def test_demo_totp_prints_the_current_code(seeded, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_totp", DELEGUE_INTERIEUR.upper(), stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert validate_totp_code(secret_of(DELEGUE_INTERIEUR), code)


def test_demo_totp_refuses_without_debug(seeded, settings):
    settings.DEBUG = False
    out = StringIO()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_totp", DELEGUE_INTERIEUR, stdout=out)
    assert out.getvalue() == ""


def test_demo_totp_unknown_account(seeded, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="Aucune double authentification"):
        call_command("demo_totp", "coach@demo.gouv.fr", stdout=StringIO())
