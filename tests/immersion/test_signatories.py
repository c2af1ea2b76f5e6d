"""Issue 14, point 7: several signatories per party (a party has signed when all of
its signatories have), links valid 30 days (checked with a moved clock), and a
délégué renewing a link, which kills the old one: the old link opens a French
"expiré ou remplacé" page, never the convention."""

import html
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Notification
from immersion import services
from immersion.models import Immersion, Signature
from tests.factories import UserFactory
from tests.immersion.builders import HR, accepted, future_days, past_days, sign, signatures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stand_in_pdf")]

S = Immersion.Statut
GONE = "Lien de signature expiré ou remplacé"
LINE_MANAGER = {
    "partie": "employeur",
    "nom": "Nadia Benali",
    "fonction": "Supérieure hiérarchique directe",
    "email": "nadia.benali@finances.gouv.fr",
}


def text_of(response):
    return html.unescape(response.content.decode())


def url_of(token):
    return reverse("immersion_public:signer", args=[token])


@pytest.fixture
def m(two_ministries):
    cadre = two_ministries["cadre_a"]
    cadre.user = UserFactory(email=cadre.email)
    cadre.save()
    return two_ministries


@pytest.fixture
def two_for_employer(m):
    return accepted(m["cadre_a"], future_days(3), m["delegue_a"], signataires=[HR])


# --- several signatories per party -------------------------------------------------


def test_each_signatory_of_a_party_signs_the_convention(two_for_employer, m):
    rows = signatures(two_for_employer)
    assert [(s.partie, s.nom, s.fonction) for s in rows] == [
        ("agent", str(m["cadre_a"]), ""),
        ("employeur", "Sophie Lemaire", ""),
        ("employeur", "Luc Ferrand", "Responsable des ressources humaines"),
        ("accueil", "Paul Mercier", ""),
    ]
    assert len({s.nonce for s in rows}) == 4
    for signature in rows:  # each is asked, with their own link
        assert Notification.objects.filter(
            kind="immersion_signature", object_id=signature.pk, email=signature.email
        ).exists()


def test_a_party_with_one_of_two_signatories_signed_has_not_signed(two_for_employer, m):
    immersion = sign(two_for_employer, str(m["cadre_a"]), "Sophie Lemaire", "Paul Mercier")
    assert immersion.statut == S.EN_SIGNATURE
    parties = {p["partie"]: p for p in immersion.current_convention().parties()}
    assert parties["agent"]["signee"] and parties["accueil"]["signee"]
    employeur = parties["employeur"]
    assert not employeur["signee"]
    assert [s.nom for s in employeur["en_attente"]] == ["Luc Ferrand"]
    assert not immersion.current_convention().fully_signed
    with pytest.raises(ValidationError) as refused:
        services.start(immersion, today=immersion.dates[0])
    assert (
        "Luc Ferrand, Responsable des ressources humaines, pour l'administration d'emploi"
        in " ".join(refused.value.messages)
    )
    assert not Notification.objects.filter(kind="immersion_convention_signee").exists()

    immersion = sign(immersion, "Luc Ferrand")
    assert immersion.statut == S.SIGNEE
    assert all(p["signee"] for p in immersion.current_convention().parties())
    assert Notification.objects.filter(kind="immersion_convention_signee").count() == 4


def test_adding_a_signatory_is_a_change_to_the_convention(two_for_employer, m):
    sign(two_for_employer, "Sophie Lemaire")
    v1 = two_for_employer.current_convention()
    v2 = services.update(two_for_employer, signataires=[HR, LINE_MANAGER])
    assert v2.version == 2
    v1.refresh_from_db()
    assert v1.annulee_le is not None
    assert [s.nom for s in signatures(two_for_employer) if s.partie == "employeur"] == [
        "Sophie Lemaire",
        "Luc Ferrand",
        "Nadia Benali",
    ]
    assert not any(s.signe_le for s in signatures(two_for_employer))
    # The same signatories again change nothing.
    assert services.update(two_for_employer, signataires=[HR, LINE_MANAGER]) == v2


def test_a_bad_signatory_is_refused_and_nothing_changes(two_for_employer):
    with pytest.raises(ValidationError) as refused:
        services.update(two_for_employer, signataires=[HR, {**LINE_MANAGER, "email": "nadia"}])
    assert "email" in refused.value.message_dict
    assert [s.nom for s in two_for_employer.autres_signataires.all()] == ["Luc Ferrand"]
    assert two_for_employer.current_convention().version == 1


def test_the_portal_groups_the_signatories_by_party(client, two_for_employer, m):
    sign(two_for_employer, "Sophie Lemaire")
    client.force_login(m["cadre_a"].user)
    page = text_of(client.get(two_for_employer.get_absolute_url()))
    assert "1 signataire sur 2 en attente" in page
    assert "Luc Ferrand (Responsable des ressources humaines)" in page
    alert = page.split('id="alerte-signatures"')[1].split("</div>")[0]
    assert "L'administration d'emploi : Luc Ferrand (Responsable des ressources humaines)" in (
        alert
    )
    assert "Sophie Lemaire" not in alert


def test_the_admin_adds_a_signatory_through_the_services(client, two_for_employer, m):
    from tests.immersion.test_admin import form_data, signataires_data

    client.force_login(m["delegue_a"])
    url = reverse("admin:immersion_immersion_change", args=[two_for_employer.pk])
    hr = two_for_employer.autres_signataires.get()
    rows = [
        {"id": hr.pk, "immersion": two_for_employer.pk, **HR},
        {"immersion": two_for_employer.pk, **LINE_MANAGER},
    ]
    data = {**form_data(two_for_employer), **signataires_data(rows, initial=1)}
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert any("la version 2 remplace la version 1" in str(x) for x in response.context["messages"])
    assert two_for_employer.current_convention().version == 2
    assert len(signatures(two_for_employer)) == 5
    # A phone number fixed with the signatories untouched: no new version.
    response = client.post(url, form_data(two_for_employer, tuteur_telephone="01 02 03 04 05"))
    assert response.status_code == 302
    assert two_for_employer.current_convention().version == 2


# --- 30 days, and renewal ------------------------------------------------------------


@contextmanager
def at(moment):
    """Move the clock (Django's and the link signer's) to ``moment``."""
    with (
        mock.patch.object(timezone, "now", return_value=moment),
        mock.patch.object(signing, "time", SimpleNamespace(time=moment.timestamp)),
    ):
        yield


def test_a_link_lasts_30_days(client, two_for_employer):
    signature = signatures(two_for_employer)[3]
    token = services.signature_token(signature)
    made = timezone.now()
    assert abs(signature.expire_le - (made + timedelta(days=30))) < timedelta(minutes=1)
    with at(made + timedelta(days=29, hours=23)):
        assert services.signature_from_token(token) == signature
        assert client.get(url_of(token)).status_code == 200
    with at(made + timedelta(days=30, minutes=5)):
        assert services.resolve_signature_token(token) == (None, services.Lien.EXPIRE)
        response = client.get(url_of(token))
        assert response.status_code == 410
        page = text_of(response)
        assert GONE in page and "Ce lien a expiré" in page
        assert "Préfecture de la Gironde" not in page and signature.nom not in page
        assert client.post(url_of(token), {"nom": "X", "accepte": "on"}).status_code == 410
    signature.refresh_from_db()
    assert signature.signe_le is None


def test_a_renewed_link_kills_the_old_one(client, two_for_employer, m):
    signature = signatures(two_for_employer)[3]
    old_token = services.signature_token(signature)
    old_rows = list(
        Notification.objects.filter(object_id=signature.pk, statut=Notification.Statut.EN_ATTENTE)
    )
    later = timezone.now() + timedelta(days=25)
    with at(later):
        renewed = services.renew_link(signature, by=m["delegue_a"])
    assert renewed.nonce != signature.nonce
    assert abs(renewed.expire_le - (later + timedelta(days=30))) < timedelta(seconds=1)
    new_token = services.signature_token(renewed)

    # The old link: a clear French page, 410, nothing of the convention.
    assert services.resolve_signature_token(old_token) == (None, services.Lien.REMPLACE)
    response = client.get(url_of(old_token))
    assert response.status_code == 410
    page = text_of(response)
    assert GONE in page and "Ce lien a été remplacé" in page
    for secret in ("Préfecture de la Gironde", "Paul Mercier", "Bordeaux", "csrfmiddlewaretoken"):
        assert secret not in page
    pdf = reverse("immersion_public:signer_pdf", args=[old_token])
    assert client.get(pdf).status_code == 410
    response = client.post(url_of(old_token), {"nom": "Paul Mercier", "accepte": "on"})
    assert response.status_code == 410
    renewed.refresh_from_db()
    assert renewed.signe_le is None

    # The old link's pending reminders are cancelled; a new mail carries the new one.
    for row in old_rows:
        row.refresh_from_db()
        assert row.statut == Notification.Statut.ANNULEE
    assert (
        Notification.objects.filter(
            kind="immersion_signature", object_id=renewed.pk, statut="en_attente"
        ).count()
        == 1
    )
    assert (
        Notification.objects.filter(
            kind="immersion_relance_signature", object_id=renewed.pk, statut="en_attente"
        ).count()
        == 3
    )
    # The new link signs.
    response = client.post(url_of(new_token), {"nom": "Paul Mercier", "accepte": "on"}, follow=True)
    assert "Signature enregistrée" in text_of(response)


def test_no_renewal_for_a_signed_or_voided_link(two_for_employer):
    first = signatures(two_for_employer)[0]
    services.sign(first, first.nom, None)
    with pytest.raises(ValidationError, match="a déjà signé"):
        services.renew_link(first)
    pending = signatures(two_for_employer)[1]
    nonce = pending.nonce
    services.update(two_for_employer, lieu="Sous-préfecture d'Arcachon")
    with pytest.raises(ValidationError, match="a été remplacée"):
        services.renew_link(pending)
    pending.refresh_from_db()
    assert pending.nonce == nonce


def renew_url(signature):
    return reverse(
        "admin:immersion_immersion_renew_link",
        args=[signature.convention.immersion_id, signature.pk],
    )


def test_the_delegue_renews_a_link_in_the_admin(client, two_for_employer, m):
    signature = signatures(two_for_employer)[2]
    old_token = services.signature_token(signature)
    client.force_login(m["delegue_a"])
    change = reverse("admin:immersion_immersion_change", args=[two_for_employer.pk])
    assert f'formaction="{renew_url(signature)}"' in text_of(client.get(change))
    response = client.post(renew_url(signature), follow=True)
    assert response.redirect_chain[-1][0] == change
    (message,) = [str(x) for x in response.context["messages"]]
    assert "Un nouveau lien" in message and "luc.ferrand@finances.gouv.fr" in message
    assert services.signature_from_token(old_token) is None
    signature.refresh_from_db()
    assert services.signature_from_token(services.signature_token(signature)) == signature


def test_renewal_outside_the_perimeter_or_of_another_immersion_is_404(client, two_for_employer, m):
    signature = signatures(two_for_employer)[2]
    nonce = signature.nonce
    client.force_login(m["delegue_b"])
    assert client.post(renew_url(signature)).status_code == 404
    client.force_login(m["delegue_a"])
    assert client.get(renew_url(signature)).status_code == 405
    other = accepted(m["cadre_a"], past_days(2, back=200))
    wrong = reverse("admin:immersion_immersion_renew_link", args=[other.pk, signature.pk])
    assert client.post(wrong).status_code == 404
    signature.refresh_from_db()
    assert signature.nonce == nonce
    assert Signature.objects.filter(nonce=nonce).exists()
