"""The immersion portal (/espace/immersion/): the agent asks for an immersion with its
list of days (the décret's rules come back as French errors on that field, nothing
saved), follows the decision and the convention's signatures, downloads the PDF and
gives feedback after the last day; the tutor gives theirs by link, without an account.
Nobody else's immersion is in reach."""

import html
from datetime import timedelta

import holidays
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.working_days import is_working_day
from immersion import services
from immersion.models import Immersion, JourImmersion, Retour, Signature
from tests.factories import ImmersionFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Immersion.Statut
LIST = reverse("immersion:list")
NEW = reverse("immersion:new")


def text_of(response):
    return html.unescape(response.content.decode())


def working_days_from(start, count):
    out, day = [], start
    while len(out) < count:
        if is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def ahead(days=120):
    """A day well beyond the 3 months' notice."""
    return timezone.localdate() + timedelta(days=days)


def future_weekday_holiday():
    start = ahead(100)
    for year in range(start.year, start.year + 4):
        for day in sorted(holidays.country_holidays("FR", years=[year])):
            if day >= start and day.weekday() < 5:
                return day
    raise AssertionError("no holiday on a weekday in four years")


def next_saturday(start):
    return start + timedelta(days=(5 - start.weekday()) % 7)


def fr(day):
    return f"{day:%d/%m/%Y}"


def request_data(days, **overrides):
    data = {
        "motivation": "Découvrir l'administration territoriale de l'État.",
        "projet_professionnel": "Devenir sous-préfète d'ici trois ans.",
        "structure_accueil": "Préfecture de la Gironde",
        "lieu": "Bordeaux",
        "fonctions_observees": "Directrice de cabinet du préfet",
        "tuteur_nom": "Hélène Garnier",
        "tuteur_fonction": "Directrice de cabinet",
        "tuteur_email": "helene.garnier@gironde.gouv.fr",
        "tuteur_telephone": "05 56 00 00 00",
        "accueil_representant_nom": "Paul Mercier",
        "accueil_representant_email": "paul.mercier@gironde.gouv.fr",
        "employeur_representant_nom": "Sophie Lemaire",
        "employeur_representant_email": "sophie.lemaire@example.gouv.fr",
        "jours": "\n".join(fr(d) for d in days),
    }
    data.update(overrides)
    return data


@pytest.fixture
def m(two_ministries):
    cadre = two_ministries["cadre_a"]
    cadre.user = UserFactory(email=cadre.email)
    cadre.save()
    return two_ministries


@pytest.fixture
def agent(m, client):
    client.force_login(m["cadre_a"].user)
    return m["cadre_a"]


def signed(cadre, days, parties=("agent", "employeur", "accueil")):
    """An accepted immersion whose convention v1 is signed by ``parties``."""
    immersion = ImmersionFactory(cadre=cadre, statut=S.ACCEPTEE, jours=days)
    convention = services.prepare_convention(immersion)
    for signature in convention.signatures.all():
        if signature.partie in parties:
            services.sign(signature, signature.nom, "192.0.2.1")
    immersion.refresh_from_db()
    return immersion, convention


def past_days(count=3, back=30):
    return working_days_from(timezone.localdate() - timedelta(days=back), count)


# --- Request ------------------------------------------------------------------------


def test_the_dates_of_these_tests_are_what_they_say():
    days = working_days_from(ahead(), 3)
    assert all(is_working_day(d) for d in days) and days[0] >= ahead(92)
    assert not is_working_day(future_weekday_holiday())
    assert next_saturday(ahead()).weekday() == 5


def test_request_form_prefills_the_delegue_and_shows_the_days_left(client, m, agent):
    ImmersionFactory(cadre=agent, statut=S.SIGNEE, jours=past_days(4))
    ImmersionFactory(cadre=agent, statut=S.REFUSEE, jours=past_days(5, back=60))  # not counted
    response = client.get(NEW)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["employeur_representant_email"] == m["delegue_a"].email
    text = text_of(response)
    assert "un jour par ligne" in text.lower()
    assert "4 jours déjà utilisés ou prévus ; il vous reste 16 jours sur le plafond de 20" in text


def test_a_valid_request_is_saved_with_its_days(client, agent):
    days = working_days_from(ahead(), 3) + working_days_from(ahead(150), 1)  # not consecutive
    response = client.post(NEW, request_data(days))
    immersion = Immersion.objects.get()
    assert response.status_code == 302 and response["Location"] == immersion.get_absolute_url()
    assert immersion.cadre == agent and immersion.statut == S.DEMANDEE
    assert immersion.recue_le == timezone.localdate()
    assert immersion.structure_accueil == "Préfecture de la Gironde"
    assert sorted(immersion.dates) == sorted(days)
    page = text_of(client.get(immersion.get_absolute_url()))
    assert "Demandée" in page and "4 jours ouvrés" in page


def refused(client, days, *, expected):
    response = client.post(NEW, request_data(days))
    assert response.status_code == 200
    errors = response.context["form"].errors["jours"]
    assert any(expected in e for e in errors), errors
    assert expected in text_of(response)
    assert not Immersion.objects.exists() and not JourImmersion.objects.exists()
    return errors


def test_a_saturday_in_the_list_is_refused(client, agent):
    saturday = next_saturday(ahead())
    days = working_days_from(ahead(), 2) + [saturday]
    refused(
        client,
        days,
        expected=f"Le {fr(saturday)} est un week-end : seuls les jours ouvrés comptent.",
    )


def test_a_public_holiday_in_the_list_is_refused(client, agent):
    holiday = future_weekday_holiday()
    days = working_days_from(holiday + timedelta(days=1), 2) + [holiday]
    refused(
        client,
        days,
        expected=f"Le {fr(holiday)} est un jour férié : seuls les jours ouvrés comptent.",
    )


def test_one_day_is_too_short(client, agent):
    refused(
        client,
        working_days_from(ahead(), 1),
        expected="Une immersion dure au moins 2 jours ouvrés (1 indiqué).",
    )


def test_eleven_days_are_too_many(client, agent):
    refused(
        client,
        working_days_from(ahead(), 11),
        expected="Une immersion dure au plus 10 jours ouvrés (11 indiqués).",
    )


def test_ten_days_are_accepted(client, agent):
    response = client.post(NEW, request_data(working_days_from(ahead(), 10)))
    assert response.status_code == 302
    assert JourImmersion.objects.count() == 10


def test_over_twenty_days_in_three_years_counting_a_previous_immersion(client, agent):
    ImmersionFactory(cadre=agent, statut=S.TERMINEE, jours=past_days(10, back=400))
    ImmersionFactory(cadre=agent, statut=S.SIGNEE, jours=past_days(8, back=60))
    before = Immersion.objects.count()
    response = client.post(NEW, request_data(working_days_from(ahead(), 3)))
    assert response.status_code == 200
    errors = response.context["form"].errors["jours"]
    assert any("à 21, au-delà du plafond de 20 jours" in e for e in errors), errors
    assert Immersion.objects.count() == before
    assert "il vous reste 2 jours" in text_of(response)


def test_less_than_three_months_ahead_is_refused(client, agent):
    days = working_days_from(timezone.localdate() + timedelta(days=30), 2)
    refused(
        client, days, expected="La demande doit être faite au moins trois mois avant le premier"
    )


def test_every_bad_line_is_reported(client, agent):
    good = working_days_from(ahead(), 2)
    text = f"{fr(good[0])}\n31/02/2027\ndemain\n{fr(good[1])}\n{fr(good[1])}"
    response = client.post(NEW, request_data([], jours=text))
    errors = response.context["form"].errors["jours"]
    assert errors == [
        "Ligne 2 : « 31/02/2027 » n'est pas une date au format jj/mm/aaaa.",
        "Ligne 3 : « demain » n'est pas une date au format jj/mm/aaaa.",
        f"Ligne 5 : le {fr(good[1])} figure déjà dans la liste.",
    ]
    assert not Immersion.objects.exists()


def test_a_user_without_a_cadre_profile_cannot_ask(client, m):
    client.force_login(UserFactory())
    assert client.get(NEW).status_code == 404
    assert "Demander une immersion" not in text_of(client.get(LIST))


# --- List and detail --------------------------------------------------------------------


def test_the_list_shows_my_immersions_only(client, m, agent):
    mine = ImmersionFactory(cadre=agent, jours=working_days_from(ahead(), 3))
    ImmersionFactory(cadre=m["cadre_b"], structure_accueil="Rectorat de Lyon")
    response = client.get(LIST)
    text = text_of(response)
    assert list(response.context["immersions"]) == [mine]
    assert "Préfecture de la Gironde" in text and "3 jours ouvrés" in text and "Demandée" in text
    assert "Rectorat de Lyon" not in text
    assert NEW in text


def test_the_list_has_constant_queries(client, agent):
    for _ in range(2):
        ImmersionFactory(cadre=agent, jours=working_days_from(ahead(), 2))
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for _ in range(8):
        ImmersionFactory(cadre=agent, jours=working_days_from(ahead(), 2))
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(few) == len(many)


def test_someone_elses_immersion_answers_404(client, m, agent):
    other, _ = signed(m["cadre_b"], working_days_from(ahead(), 2))
    for url in (
        reverse("immersion:detail", args=[other.pk]),
        reverse("immersion:convention_pdf", args=[other.pk]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("immersion:feedback", args=[other.pk]), {"confirme_projet": "oui"}
    )
    assert response.status_code == 404
    assert not Retour.objects.exists()


def test_the_decision_and_its_reasons_are_shown(client, m, agent):
    immersion = ImmersionFactory(cadre=agent, jours=working_days_from(ahead(), 2))
    page = text_of(client.get(immersion.get_absolute_url()))
    deadline = immersion.recue_le
    assert "En attente : la réponse est due au plus tard le" in page
    services.decide(immersion, S.REPORTEE, "Période de clôture budgétaire.", by=m["delegue_a"])
    page = text_of(client.get(immersion.get_absolute_url()))
    assert "Report, le" in page and "Période de clôture budgétaire." in page
    assert deadline  # the deadline was shown before the decision


def test_the_pdf_download_is_the_stored_document(client, agent):
    immersion, convention = signed(agent, working_days_from(ahead(), 2), parties=())
    response = client.get(reverse("immersion:convention_pdf", args=[immersion.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == bytes(convention.pdf)
    assert response.content.startswith(b"%PDF")


def test_the_alert_lists_the_parties_who_have_not_signed(client, agent):
    immersion, convention = signed(agent, working_days_from(ahead(), 2), parties=("agent",))
    response = client.get(immersion.get_absolute_url())
    page = text_of(response)
    assert "L'immersion ne peut pas commencer" in page
    pending = [str(s) for s in response.context["pending"]]
    assert pending == [
        f"L'administration d'emploi – {immersion.employeur_representant_nom}",
        f"La structure d'accueil – {immersion.accueil_representant_nom}",
    ]
    alert = page.split('id="alerte-signatures"')[1].split("</div>")[0]
    assert "L'administration d'emploi : Sophie Lemaire" in alert
    assert "La structure d'accueil : Paul Mercier" in alert
    assert "L'agent" not in alert
    assert "en attente" in page and "signée le" in page
    assert "Télécharger la convention" in page and "version 1" in page


def test_no_alert_once_every_party_has_signed(client, agent):
    immersion, _ = signed(agent, working_days_from(ahead(), 2))
    page = text_of(client.get(immersion.get_absolute_url()))
    assert immersion.statut == S.SIGNEE
    assert "pas encore signée" not in page
    assert page.count("signée le") == 3


def test_the_agent_signs_from_the_alert(client, agent):
    immersion, _ = signed(agent, working_days_from(ahead(), 2), parties=("employeur",))
    response = client.get(immersion.get_absolute_url())
    assert response.context["sign_url"].startswith("/immersion/signer/")


# --- Feedback -----------------------------------------------------------------------------


def test_the_agent_gives_feedback_after_the_last_day(client, agent):
    immersion, _ = signed(agent, past_days(3))
    response = client.get(immersion.get_absolute_url())
    assert "feedback_form" in response.context
    response = client.post(
        reverse("immersion:feedback", args=[immersion.pk]),
        {
            "realisation": "effectuee",
            "confirme_projet": "en_partie",
            "suite": "Postuler en préfecture l'an prochain.",
        },
    )
    assert response.status_code == 302
    retour = Retour.objects.get()
    assert (retour.auteur, retour.confirme_projet) == ("agent", "en_partie")
    assert retour.suite == "Postuler en préfecture l'an prochain."
    immersion.refresh_from_db()
    assert immersion.statut == S.TERMINEE
    page = text_of(client.get(immersion.get_absolute_url()))
    assert "Projet confirmé : En partie." in page
    assert "feedback_form" not in client.get(immersion.get_absolute_url()).context


def test_no_feedback_before_the_last_day(client, agent):
    days = [timezone.localdate() - timedelta(days=1), timezone.localdate() + timedelta(days=1)]
    immersion, _ = signed(agent, days)
    assert "feedback_form" not in client.get(immersion.get_absolute_url()).context
    response = client.post(
        reverse("immersion:feedback", args=[immersion.pk]), {"confirme_projet": "oui"}, follow=True
    )
    assert "Le retour se fait après le dernier jour de l'immersion." in text_of(response)
    assert not Retour.objects.exists()


def test_the_tutor_gives_feedback_by_link(client, m):
    immersion, _ = signed(m["cadre_a"], past_days(2))
    url = reverse("immersion_public:retour", args=[services.feedback_token(immersion)])
    response = client.get(url)
    assert response.status_code == 200
    assert str(m["cadre_a"]) in text_of(response)
    response = client.post(
        url,
        {
            "realisation": "effectuee",
            "confirme_projet": "oui",
            "suite": "Une candidature attendue.",
        },
    )
    assert response.status_code == 200
    assert "Merci pour votre retour" in text_of(response)
    retour = Retour.objects.get()
    assert (retour.auteur, retour.confirme_projet) == ("tuteur", "oui")
    again = text_of(client.get(url))
    assert "a déjà été enregistré" in again


def test_the_tutor_cannot_answer_before_the_last_day(client, m):
    immersion, _ = signed(m["cadre_a"], working_days_from(ahead(), 2))
    url = reverse("immersion_public:retour", args=[services.feedback_token(immersion)])
    response = client.post(url, {"realisation": "effectuee", "confirme_projet": "oui"})
    assert response.status_code == 200
    assert "Le retour se fait après le dernier jour de l'immersion." in text_of(response)
    assert not Retour.objects.exists()


def test_a_tampered_feedback_link_answers_404(client, m):
    immersion, _ = signed(m["cadre_a"], past_days(2))
    token = services.feedback_token(immersion)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    url = reverse("immersion_public:retour", args=[tampered])
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirme_projet": "non"}).status_code == 404
    assert "Page non trouvée" in text_of(client.get(url))
    assert not Retour.objects.exists()
    assert Signature.objects.filter(signe_le__isnull=False).count() == 3
