"""Issue 14, points 5 and 8: an immersion is not marked started, nor its days
attended, before every signatory has signed and, when it involves travel, before its
ordre de mission is recorded. The service refuses with who has not signed; the admin
and the portal call it and show a DSFR alert naming them with their role."""

import html
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from immersion import services
from immersion.models import Convention, Immersion, Retour
from tests.factories import UserFactory
from tests.immersion.builders import (
    HR,
    accepted,
    future_days,
    past_days,
    request_data,
    sign,
    signatures,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stand_in_pdf")]

S = Immersion.Statut


def text_of(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def m(two_ministries):
    cadre = two_ministries["cadre_a"]
    cadre.user = UserFactory(email=cadre.email)
    cadre.save()
    return two_ministries


@pytest.fixture
def running(m):
    """Its first day is past; the agent and the employer have signed, not the host."""
    immersion = accepted(m["cadre_a"], past_days(3, back=2), m["delegue_a"])
    return sign(immersion, "Sophie Lemaire", str(m["cadre_a"]))


def refusal(immersion):
    with pytest.raises(ValidationError) as refused:
        services.start(immersion)
    immersion.refresh_from_db()
    assert immersion.commencee_le is None
    return " ".join(refused.value.messages)


# --- the service ------------------------------------------------------------------


def test_an_unsigned_immersion_cannot_start(running):
    assert running.statut == S.EN_SIGNATURE
    message = refusal(running)
    assert message.startswith("L'immersion ne peut pas commencer.")
    assert "La convention (version 1) n'est pas encore signée par : Paul Mercier, pour la " in (
        message
    )
    assert "structure d'accueil" in message
    assert "Sophie Lemaire" not in message  # she has signed
    sign(running)
    started = services.start(running)
    assert started.commencee_le is not None
    with pytest.raises(ValidationError, match="déjà commencée"):
        services.start(running)


def test_a_request_without_convention_cannot_start(m):
    immersion = services.submit(
        m["cadre_a"], past_days(2), accord_delai_court=True, **request_data()
    )
    assert "La convention n'est pas encore générée" in refusal(immersion)
    services.decide(immersion, S.REFUSEE, motif="Service en sous-effectif.")
    assert "« refusée » ne peut pas commencer" in refusal(immersion)
    assert not immersion.jours.filter(effectue__isnull=False).exists()


def test_not_before_the_first_day(m):
    immersion = sign(accepted(m["cadre_a"], future_days(2), m["delegue_a"]))
    assert immersion.statut == S.SIGNEE
    first = immersion.dates[0]
    assert f"Le premier jour de l'immersion est le {first:%d/%m/%Y}" in refusal(immersion)
    assert services.start(immersion, today=first).commencee_le is not None


def test_days_cannot_be_recorded_done_before_every_signature(running):
    with pytest.raises(ValidationError, match="convention est signée"):
        services.record_feedback(running, Retour.Auteur.AGENT, "oui", realisation="effectuee")
    assert not running.jours.filter(effectue__isnull=False).exists()
    assert not Retour.objects.exists()


def test_started_the_convention_no_longer_changes(running):
    sign(running)
    services.start(running)
    with pytest.raises(ValidationError, match="Immersion commencée"):
        services.update(running, lieu="Ailleurs")
    running.refresh_from_db()
    assert running.lieu != "Ailleurs" and running.conventions.count() == 1


# --- ordre de mission (point 8) -------------------------------------------------------


def test_with_travel_the_ordre_de_mission_is_required_to_start(m):
    immersion = sign(accepted(m["cadre_a"], past_days(2, back=1), deplacement=True))
    assert immersion.statut == S.SIGNEE
    message = refusal(immersion)
    assert "l'ordre de mission doit être établi" in message
    assert "n'est pas encore signée" not in message
    version = immersion.current_convention()
    # Recording the order is not a change to the convention: nothing is voided.
    services.update(immersion, ordre_mission_numero="OM-2027-0042", ordre_mission_date=date.today())
    assert immersion.current_convention() == version
    assert all(s.signe_le for s in signatures(immersion))
    assert services.start(immersion).commencee_le is not None


def test_without_travel_no_ordre_de_mission_is_needed(m):
    immersion = sign(accepted(m["cadre_a"], past_days(2, back=1), deplacement=False))
    assert services.start(immersion).commencee_le is not None


@pytest.mark.parametrize(
    "numero, jour", [("OM-1", None), ("", date(2027, 1, 4)), ("   ", date(2027, 1, 4))]
)
def test_an_ordre_de_mission_has_a_number_and_a_date(m, numero, jour):
    immersion = accepted(m["cadre_a"], past_days(2), deplacement=True)
    with pytest.raises(ValidationError, match="avec son numéro et sa date"):
        services.update(immersion, ordre_mission_numero=numero, ordre_mission_date=jour)
    immersion.refresh_from_db()
    assert not immersion.ordre_mission_emis and immersion.ordre_mission_numero == ""


def test_days_done_with_travel_need_the_ordre_de_mission(m):
    immersion = sign(accepted(m["cadre_a"], past_days(2), deplacement=True))
    with pytest.raises(ValidationError, match="ordre de mission"):
        services.record_feedback(immersion, Retour.Auteur.AGENT, "oui", realisation="effectuee")
    assert not Retour.objects.exists()
    assert not immersion.jours.filter(effectue__isnull=False).exists()
    # Not attended at all needs no order: no day was done.
    services.record_feedback(immersion, Retour.Auteur.AGENT, "non", realisation="non_effectuee")
    assert list(immersion.jours.values_list("effectue", flat=True)) == [False, False]


# --- the portal ----------------------------------------------------------------------


def test_portal_alert_names_who_has_not_signed_and_the_start_is_refused(client, m, running):
    url = running.get_absolute_url()
    client.force_login(m["cadre_a"].user)
    page = text_of(client.get(url))
    alert = page.split('id="alerte-signatures"')[1].split("</div>")[0]
    assert "fr-alert fr-alert--error" in page.split('id="alerte-signatures"')[0][-80:]
    assert "L'immersion ne peut pas commencer" in alert
    assert "La structure d'accueil : Paul Mercier" in alert
    assert "Sophie Lemaire" not in alert
    assert "Indiquer que mon immersion a commencé" not in page
    # Posted anyway, the service refuses and says why.
    response = client.post(reverse("immersion:start", args=[running.pk]), follow=True)
    assert any("Paul Mercier, pour la structure d'accueil" in m_ for m_ in messages_of(response))
    running.refresh_from_db()
    assert running.commencee_le is None


def test_portal_start_once_signed(client, m, running):
    sign(running)
    client.force_login(m["cadre_a"].user)
    page = text_of(client.get(running.get_absolute_url()))
    assert 'id="alerte-signatures"' not in page
    assert "Indiquer que mon immersion a commencé" in page
    assert client.get(reverse("immersion:start", args=[running.pk])).status_code == 405
    response = client.post(reverse("immersion:start", args=[running.pk]), follow=True)
    assert "Le début de votre immersion est enregistré." in text_of(response)
    running.refresh_from_db()
    assert running.commencee_le is not None
    assert "Immersion commencée le" in text_of(client.get(running.get_absolute_url()))


def test_portal_alert_for_a_missing_ordre_de_mission(client, m):
    immersion = sign(accepted(m["cadre_a"], past_days(2, back=1), deplacement=True))
    client.force_login(m["cadre_a"].user)
    page = text_of(client.get(immersion.get_absolute_url()))
    assert "l'ordre de mission n'est pas encore établi" in page
    assert "Ordre de mission pas encore établi." in page
    assert "Indiquer que mon immersion a commencé" not in page


def test_someone_elses_start_answers_404(client, m):
    other = sign(accepted(m["cadre_b"], past_days(2, back=1)))
    client.force_login(m["cadre_a"].user)
    assert client.post(reverse("immersion:start", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.commencee_le is None


# --- the admin -----------------------------------------------------------------------


def start_url(immersion):
    return reverse("admin:immersion_immersion_start", args=[immersion.pk])


def change_url(immersion):
    return reverse("admin:immersion_immersion_change", args=[immersion.pk])


def test_admin_alert_and_refused_start(client, m, running):
    client.force_login(m["delegue_a"])
    page = text_of(client.get(change_url(running)))
    alert = page.split('id="alerte-signatures"')[1].split("</div>")[0]
    assert "L'immersion ne peut pas commencer" in alert
    assert "La structure d'accueil : Paul Mercier" in alert
    assert "Marquer l'immersion commencée" not in page
    response = client.post(start_url(running), follow=True)
    assert response.redirect_chain[-1][0] == change_url(running)
    (message,) = messages_of(response)
    assert "n'est pas encore signée par : Paul Mercier, pour la structure d'accueil" in message
    running.refresh_from_db()
    assert running.commencee_le is None


def test_admin_starts_a_signed_immersion(client, m, running):
    sign(running)
    client.force_login(m["delegue_a"])
    page = text_of(client.get(change_url(running)))
    assert 'id="alerte-signatures"' not in page
    assert f'formaction="{start_url(running)}"' in page
    response = client.post(start_url(running), follow=True)
    assert "Le début de l'immersion est enregistré." in messages_of(response)
    running.refresh_from_db()
    assert running.commencee_le is not None


def test_admin_start_outside_the_perimeter_is_404(client, m, running):
    sign(running)
    client.force_login(m["delegue_b"])
    assert client.post(start_url(running)).status_code == 404
    client.force_login(m["delegue_a"])
    assert client.get(start_url(running)).status_code == 405
    running.refresh_from_db()
    assert running.commencee_le is None


def test_admin_records_the_ordre_de_mission_without_voiding(client, m):
    from tests.immersion.test_admin import form_data

    immersion = sign(accepted(m["cadre_a"], past_days(2, back=1), deplacement=True))
    client.force_login(m["delegue_a"])
    assert "l'ordre de mission n'est pas encore établi" in text_of(
        client.get(change_url(immersion))
    )
    bad = form_data(immersion, ordre_mission_numero="OM-7")
    response = client.post(change_url(immersion), bad, follow=True)
    assert "avec son numéro et sa date" in text_of(response)
    immersion.refresh_from_db()
    assert not immersion.ordre_mission_emis
    data = form_data(immersion, ordre_mission_numero="OM-7", ordre_mission_date="2027-01-04")
    assert client.post(change_url(immersion), data).status_code == 302
    immersion.refresh_from_db()
    assert immersion.ordre_mission_emis
    assert Convention.objects.filter(immersion=immersion).count() == 1
    assert immersion.statut == S.SIGNEE
    assert services.start(immersion).commencee_le is not None


def test_two_signatories_for_a_party_in_the_alert(client, m):
    immersion = accepted(m["cadre_a"], past_days(2, back=1), signataires=[HR])
    sign(immersion, "Sophie Lemaire", "Paul Mercier", str(m["cadre_a"]))
    client.force_login(m["delegue_a"])
    page = text_of(client.get(change_url(immersion)))
    alert = page.split('id="alerte-signatures"')[1].split("</div>")[0]
    assert "L'administration d'emploi : Luc Ferrand (Responsable des ressources humaines)" in alert
    assert "n'a pas encore signé (1 sur 2 en attente)" in page


def test_admin_internal_comment_voids_no_signature(client, m):
    """Issue 14, point 6: an internal comment is not what the convention states."""
    from tests.immersion.test_admin import form_data

    immersion = sign(accepted(m["cadre_a"], future_days(3), m["delegue_a"]), "Paul Mercier")
    signed = {s.pk for s in signatures(immersion) if s.signe_le}
    client.force_login(m["delegue_a"])
    data = form_data(immersion, commentaire_interne="Relancer la préfecture pour le badge.")
    response = client.post(change_url(immersion), data)
    assert response.status_code == 302
    immersion.refresh_from_db()
    assert immersion.commentaire_interne == "Relancer la préfecture pour le badge."
    assert Convention.objects.filter(immersion=immersion).count() == 1
    assert {s.pk for s in signatures(immersion) if s.signe_le} == signed
    assert immersion.statut == S.EN_SIGNATURE
    # The same form changing the place makes version 2 and voids the signature.
    data = form_data(immersion, lieu="Sous-préfecture d'Arcachon")
    assert client.post(change_url(immersion), data).status_code == 302
    assert immersion.current_convention().version == 2
