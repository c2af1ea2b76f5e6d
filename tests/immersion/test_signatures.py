"""Signatures by personal link (no account): the mails that carry the link and the
PDF, the public page, forgery / reuse / expiry refused, voided versions, the fully
signed convention, and the reminder schedule (each reminder exactly once)."""

import hashlib
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Notification
from accompagnement.services.outbox import send_due
from immersion import services
from immersion.models import Immersion, Signature
from tests.immersion.test_convention import DAYS, make_accepted

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/immersion/signer/([^/\s\"]+)/")


def mails_to(email, kind=None):
    """Mails sent to ``email`` (those of one notification kind, when given)."""
    sent = [m for m in mail.outbox if m.to == [email]]
    if kind is None:
        return sent
    ids = {
        f"<notification-{pk}@testserver>"
        for pk in Notification.objects.filter(kind=kind, email=email).values_list("pk", flat=True)
    }
    return [m for m in sent if m.extra_headers.get("Message-ID") in ids]


def token_in(message):
    tokens = set(LINK.findall(message.body))
    assert len(tokens) == 1, message.body
    return tokens.pop()


def sign_url(signature):
    return reverse("immersion_public:signer", args=[services.signature_token(signature)])


def signatures_of(immersion):
    return {s.partie: s for s in immersion.current_convention().signatures.all()}


@pytest.fixture
def accepted():
    mail.outbox.clear()
    immersion, delegue = make_accepted()
    return immersion, delegue


# --- the mails ---------------------------------------------------------------------


def test_each_party_gets_its_own_link_and_the_pdf(accepted):
    immersion, _ = accepted
    convention = immersion.current_convention()
    send_due()
    signatures = list(convention.signatures.all())
    assert {s.partie for s in signatures} == set(Signature.Partie.values)
    assert {s.email for s in signatures} == {
        immersion.cadre.email,
        "sophie.lemaire@finances.gouv.fr",
        "paul.mercier@gironde.gouv.fr",
    }
    for signature in signatures:
        (message,) = mails_to(signature.email, "immersion_signature")
        assert "Convention d'immersion à signer" in message.subject
        # The link in the mail is this party's, and only this party's.
        assert services.signature_from_token(token_in(message)) == signature
        html = message.alternatives[0][0]
        assert token_in(message) in html
        ((name, content, mimetype),) = message.attachments
        assert name == "convention-v1.pdf"
        assert mimetype == "application/pdf"
        assert content == bytes(convention.pdf)
        assert hashlib.sha256(content).hexdigest() == convention.sha256


def test_the_agent_is_told_the_decision_and_its_reasons():
    from tests.factories import CadreFactory
    from tests.immersion.test_convention import request_data

    cadre = CadreFactory()
    immersion = services.submit(cadre, DAYS, **request_data())
    services.decide(immersion, Immersion.Statut.REPORTEE, "Période de clôture budgétaire.")
    send_due()
    (message,) = mails_to(cadre.email, "immersion_decision")
    assert "reportée" in message.subject.lower()
    assert "Période de clôture budgétaire." in message.body


def test_an_accepted_request_is_announced_as_accepted(accepted):
    immersion, _ = accepted
    send_due()
    (message,) = mails_to(immersion.cadre.email, "immersion_decision")
    assert "accord de la hiérarchie" in message.subject.lower()
    assert "signature" in message.body


# --- the public page ----------------------------------------------------------------


def test_the_page_shows_the_convention_the_pdf_and_the_form(client, accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.ACCUEIL]
    convention = signature.convention
    response = client.get(sign_url(signature))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    page = response.content.decode()
    for text in (
        "Camille",
        "Préfecture de la Gironde",
        "Sophie Lemaire",
        "Paul Mercier",
        "Hélène Garnier",
        "Direction de cabinet du préfet et gestion de crise",
        "2 esplanade Charles-de-Gaulle",
        "mardi 14/09/2027",
        "jeudi 16/09/2027",
        convention.sha256,
        "J&#x27;ai lu la convention et je la signe",
        "csrfmiddlewaretoken",
    ):
        assert text in page, text
    pdf_url = reverse("immersion_public:signer_pdf", args=[services.signature_token(signature)])
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(convention.pdf)
    assert hashlib.sha256(pdf.content).hexdigest() == convention.sha256


def test_signing_records_time_name_ip_and_hash(client, accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.EMPLOYEUR]
    response = client.post(
        sign_url(signature),
        {"nom": "  Sophie Lemaire ", "accepte": "on"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    # Post/redirect/get: reloading the page posts nothing again.
    assert response.status_code == 302
    assert response["Location"] == f"{sign_url(signature)}?signee"
    response = client.get(response["Location"])
    assert "Signature enregistrée" in response.content.decode()
    assert "Convention déjà signée" in client.get(sign_url(signature)).content.decode()
    signature.refresh_from_db()
    assert signature.signe_le is not None
    assert signature.nom_signe == "Sophie Lemaire"
    assert signature.ip == "198.51.100.7"  # X-Forwarded-For is not trusted here
    assert signature.document_sha256 == signature.convention.sha256
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.EN_SIGNATURE  # two parties left


def test_the_box_must_be_ticked_and_the_name_given(client, accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.AGENT]
    response = client.post(sign_url(signature), {"nom": "Camille Durand"})
    assert response.status_code == 200
    assert "Cochez la case" in response.content.decode()
    response = client.post(sign_url(signature), {"nom": "   ", "accepte": "on"})
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.signe_le is None


def test_the_csrf_token_is_required(accepted):
    from django.test import Client

    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.AGENT]
    response = Client(enforce_csrf_checks=True).post(
        sign_url(signature), {"nom": "Camille Durand", "accepte": "on"}
    )
    assert response.status_code == 403
    signature.refresh_from_db()
    assert signature.signe_le is None


# --- forgery, reuse, expiry ----------------------------------------------------------


GONE = "Lien de signature expiré ou remplacé"


def assert_refused(client, url, status=404, heading="Lien de signature invalide", reason=""):
    """The link opens nothing: a French page saying why, never the convention."""
    response = client.get(url)
    assert response.status_code == status
    page = response.content.decode()
    assert heading in page and reason in page
    assert "Préfecture de la Gironde" not in page and "Signer la convention" not in page
    assert client.post(url, {"nom": "X", "accepte": "on"}).status_code == status


def test_a_forged_token_is_refused(client, accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.ACCUEIL]
    token = services.signature_token(signature)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert services.signature_from_token(tampered) is None
    assert_refused(client, reverse("immersion_public:signer", args=[tampered]))
    # A well-signed token with a guessed nonce, or signed for another purpose.
    # (one carrying our signature but another nonce can only be a link we renewed)
    guessed = signing.dumps({"s": signature.pk, "n": "0" * 32}, salt=services.SIGN_SALT)
    assert_refused(client, reverse("immersion_public:signer", args=[guessed]), 410, GONE)
    other_salt = signing.dumps({"s": signature.pk, "n": signature.nonce}, salt="autre")
    assert_refused(client, reverse("immersion_public:signer", args=[other_salt]))
    # The PDF is no easier to reach.
    assert client.get(reverse("immersion_public:signer_pdf", args=[tampered])).status_code == 404
    signature.refresh_from_db()
    assert signature.signe_le is None


def test_a_used_link_says_already_signed(client, accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.AGENT]
    url = sign_url(signature)
    client.post(url, {"nom": "Camille Durand", "accepte": "on"}, REMOTE_ADDR="192.0.2.1")
    signature.refresh_from_db()
    first = signature.signe_le

    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "déjà signé" in page
    assert timezone.localtime(first).strftime("%d/%m/%Y") in page
    assert "<form" not in page
    response = client.post(
        url, {"nom": "Quelqu'un d'autre", "accepte": "on"}, REMOTE_ADDR="192.0.2.2"
    )
    assert "déjà signé" in response.content.decode()
    signature.refresh_from_db()
    assert (signature.signe_le, signature.nom_signe, signature.ip) == (
        first,
        "Camille Durand",
        "192.0.2.1",
    )
    with pytest.raises(Exception, match="déjà"):
        services.sign(signature, "Camille Durand", "192.0.2.3")


def test_an_expired_link_is_refused(client, accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.ACCUEIL]
    url = sign_url(signature)
    Signature.objects.filter(pk=signature.pk).update(
        expire_le=timezone.now() - timedelta(minutes=1)
    )
    assert services.signature_from_token(url.split("/")[-2]) is None
    assert_refused(client, url, 410, GONE, "Ce lien a expiré")


def _token_made(signature, days_ago):
    """A link made ``days_ago`` days ago (the signed timestamp in the token)."""
    then = int(signing.time.time()) - days_ago * 86400
    with mock.patch.object(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then)
    ):
        return services.signature_token(signature)


def test_a_token_older_than_30_days_is_refused_even_if_the_row_is_still_valid(accepted):
    immersion, _ = accepted
    signature = signatures_of(immersion)[Signature.Partie.ACCUEIL]
    Signature.objects.filter(pk=signature.pk).update(expire_le=timezone.now() + timedelta(days=60))
    assert services.signature_from_token(_token_made(signature, 29)) == signature
    assert services.signature_from_token(_token_made(signature, 31)) is None


# --- a new version voids the old links --------------------------------------------------


def test_a_data_change_voids_signatures_and_old_links_and_sends_new_ones(client, accepted):
    immersion, _ = accepted
    send_due()
    old = signatures_of(immersion)
    old_urls = {partie: sign_url(s) for partie, s in old.items()}
    client.post(old_urls["agent"], {"nom": "Camille Durand", "accepte": "on"})
    mail.outbox.clear()

    services.update(immersion, days=DAYS + [DAYS[-1] + timedelta(days=1)])
    send_due()

    for url in old_urls.values():
        assert_refused(client, url, 410, GONE, "la convention a été modifiée")
    new = signatures_of(immersion)
    assert immersion.current_convention().version == 2
    for signature in new.values():
        assert signature.signe_le is None
        (voided,) = mails_to(signature.email, "immersion_convention_annulee")
        assert "version n° 1 est annulée" in voided.subject
        assert "nouvelle version" in voided.body
        assert not LINK.search(voided.body)
        (fresh,) = [
            m
            for m in mails_to(signature.email)
            if m.subject.startswith("[") and "à signer" in m.subject
        ]
        assert services.signature_from_token(token_in(fresh)) == signature
        ((name, content, _),) = fresh.attachments
        assert name == "convention-v2.pdf"
        assert content == bytes(signature.convention.pdf)
        assert client.get(sign_url(signature)).status_code == 200
    # The agent's signature of version 1 was voided with it.
    old_agent = Signature.objects.get(pk=old["agent"].pk)
    assert old_agent.signe_le is not None and old_agent.convention.annulee_le is not None
    # No reminder of version 1 will ever be sent.
    assert not Notification.objects.filter(
        object_id__in=[s.pk for s in old.values()],
        kind__in=["immersion_relance_signature", "immersion_alerte_signature"],
        statut=Notification.Statut.EN_ATTENTE,
    ).exists()


def test_a_phone_change_sends_nothing(accepted):
    immersion, _ = accepted
    send_due()
    mail.outbox.clear()
    services.update(immersion, tuteur_telephone="06 00 00 00 00")
    send_due()
    assert mail.outbox == []
    assert immersion.current_convention().version == 1


# --- fully signed ----------------------------------------------------------------------


def sign_all(client, immersion):
    for signature in signatures_of(immersion).values():
        response = client.post(sign_url(signature), {"nom": signature.nom, "accepte": "on"})
        assert response.status_code == 302


def test_three_signatures_make_a_signed_convention_sent_to_all(client, accepted):
    immersion, delegue = accepted
    start = timezone.now()
    send_due()
    sign_all(client, immersion)
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.SIGNEE
    convention = immersion.current_convention()
    assert convention.fully_signed
    assert {s.document_sha256 for s in convention.signatures.all()} == {convention.sha256}

    mail.outbox.clear()
    send_due()
    for signature in convention.signatures.all():
        (message,) = mails_to(signature.email, "immersion_convention_signee")
        assert "signée par toutes les parties" in message.subject
        assert convention.sha256 in message.body
        ((name, content, mimetype),) = message.attachments
        assert (name, mimetype) == ("convention-v1.pdf", "application/pdf")
        assert content == bytes(convention.pdf)

    # No reminder nor alert afterwards, however late the sweeps run.
    mail.outbox.clear()
    for days in (4, 7, 10, 13, 40):
        send_due(now=start + timedelta(days=days))
    kinds = set(
        Notification.objects.filter(statut=Notification.Statut.ENVOYEE).values_list(
            "kind", flat=True
        )
    )
    assert "immersion_relance_signature" not in kinds
    assert "immersion_alerte_signature" not in kinds
    assert mail.outbox == []


def test_signed_schedules_the_days_reminder_and_the_feedback_request(client, accepted):
    immersion, _ = accepted
    sign_all(client, immersion)
    rows = Notification.objects.filter(
        kind__in=["immersion_rappel_debut", "immersion_demande_retour"],
        statut=Notification.Statut.EN_ATTENTE,
    )
    agent, tutor = immersion.cadre.email, "helene.garnier@gironde.gouv.fr"
    assert sorted((r.kind, r.email) for r in rows) == sorted(
        [
            ("immersion_rappel_debut", agent),
            ("immersion_rappel_debut", tutor),
            ("immersion_demande_retour", agent),
            ("immersion_demande_retour", tutor),
        ]
    )
    first, last = DAYS[0], DAYS[-1]
    for row in rows:
        day = timezone.localtime(row.due_at).date()
        if row.kind == "immersion_rappel_debut":
            assert day == first - timedelta(days=3)
        else:
            assert day == last + timedelta(days=1)

    mail.outbox.clear()
    send_due(now=max(r.due_at for r in rows))
    for email in (agent, tutor):
        (rappel,) = mails_to(email, "immersion_rappel_debut")
        assert "14/09/2027" in rappel.subject
        assert "mardi 14/09/2027" in rappel.body
        (retour,) = mails_to(email, "immersion_demande_retour")
        assert "confirmé le projet professionnel" in retour.body
    (retour,) = mails_to(tutor, "immersion_demande_retour")
    token = re.search(r"/immersion/retour/([^/\s]+)/", retour.body).group(1)
    assert services.immersion_from_feedback_token(token) == immersion
    (retour,) = mails_to(agent, "immersion_demande_retour")
    assert reverse("immersion:detail", args=[immersion.pk]) in retour.body
    assert "/immersion/retour/" not in retour.body


def test_a_new_version_after_signature_reschedules_the_days_reminders(client, accepted):
    immersion, _ = accepted
    sign_all(client, immersion)
    later = DAYS + [DAYS[-1] + timedelta(days=1)]
    services.update(immersion, days=later)
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.EN_SIGNATURE
    pending = Notification.objects.filter(
        kind="immersion_demande_retour", statut=Notification.Statut.EN_ATTENTE
    )
    assert not pending.exists()  # until the new version is signed
    sign_all(client, immersion)
    assert {timezone.localtime(r.due_at).date() for r in pending} == {later[-1] + timedelta(days=1)}


# --- reminders: +3, +6, +9 days, then the délégué at +12 -----------------------------------


def test_an_unsigned_party_is_reminded_three_times_then_the_delegue_alerted(client, accepted):
    immersion, delegue = accepted
    start = immersion.current_convention().cree_le
    signatures = signatures_of(immersion)
    for partie in ("agent", "employeur"):
        s = signatures[partie]
        client.post(sign_url(s), {"nom": s.nom, "accepte": "on"})
    laggard = signatures["accueil"]
    send_due()
    mail.outbox.clear()

    def relances():
        return len(mails_to(laggard.email, "immersion_relance_signature"))

    def alerts():
        return len(mails_to(delegue.email, "immersion_alerte_signature"))

    send_due(now=start + timedelta(days=2, hours=23))
    assert (relances(), alerts()) == (0, 0)
    for n, days in enumerate((3, 6, 9), start=1):
        for _ in range(2):  # a sweep twice at the same time sends nothing twice
            send_due(now=start + timedelta(days=days, minutes=1))
        assert (relances(), alerts()) == (n, 0), days
    send_due(now=start + timedelta(days=11))
    assert (relances(), alerts()) == (3, 0)
    for _ in range(2):
        send_due(now=start + timedelta(days=12, minutes=1))
    assert (relances(), alerts()) == (3, 1)
    send_due(now=start + timedelta(days=29))
    assert (relances(), alerts()) == (3, 1)

    # Only the party that has not signed was reminded.
    for partie in ("agent", "employeur"):
        assert not mails_to(signatures[partie].email, "immersion_relance_signature")
    # Each reminder carries the link and the PDF.
    for message in mails_to(laggard.email, "immersion_relance_signature"):
        assert services.signature_from_token(token_in(message)) == laggard
        assert message.attachments[0][0] == "convention-v1.pdf"
    (alert,) = mails_to(delegue.email, "immersion_alerte_signature")
    assert "Paul Mercier" in alert.body
    assert "paul.mercier@gironde.gouv.fr" in alert.body
    admin_url = reverse("admin:immersion_immersion_change", args=[immersion.pk])
    assert admin_url in alert.body
    assert not LINK.search(alert.body)  # the délégué never gets the signatory's link


def test_signing_after_a_reminder_stops_the_next_ones(client, accepted):
    immersion, delegue = accepted
    start = immersion.current_convention().cree_le
    signature = signatures_of(immersion)["accueil"]
    send_due()
    mail.outbox.clear()
    send_due(now=start + timedelta(days=3, minutes=1))
    assert len(mails_to(signature.email, "immersion_relance_signature")) == 1
    client.post(sign_url(signature), {"nom": signature.nom, "accepte": "on"})
    for days in (6, 9, 12):
        send_due(now=start + timedelta(days=days, minutes=1))
    assert len(mails_to(signature.email, "immersion_relance_signature")) == 1
    # The délégué is alerted about the two parties still unsigned, not about this one.
    alerts = mails_to(delegue.email, "immersion_alerte_signature")
    assert len(alerts) == 2
    assert not any("Paul Mercier" in m.body for m in alerts)
