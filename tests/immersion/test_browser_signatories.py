"""Issue 14's browser journey: an immersion whose employing administration signs by two
people (the délégué and the HR manager). One signs by their link; the agent's portal
page shows the alert naming the other and offers no start; the second signs; the
alert is gone and the agent records the start of their immersion."""

from urllib.parse import urlsplit

import pytest

from immersion import services
from immersion.models import Immersion
from tests.browser import sign_in
from tests.immersion.builders import HR, accepted, past_days, sign, signatures

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.usefixtures("stand_in_pdf"),
]

START = "Indiquer que mon immersion a commencé"


def sign_by_link(page, signature):
    page.goto(urlsplit(services.signature_url(signature)).path)
    page.get_by_label("Vos prénom et nom").fill(signature.nom)
    page.locator("label", has_text="J'ai lu la convention et je la signe").click()
    page.get_by_role("button", name="Signer la convention").click()
    page.get_by_role("heading", name="Signature enregistrée").wait_for()


def test_two_employer_signatories_one_signs_the_alert_names_the_other_then_it_starts(
    page, two_ministries
):
    from tests.factories import UserFactory

    cadre = two_ministries["cadre_a"]
    cadre.user = UserFactory(email=cadre.email)
    cadre.save()
    # Its first day has come; the agent and the host structure have signed.
    immersion = accepted(cadre, past_days(3, back=2), two_ministries["delegue_a"], signataires=[HR])
    sign(immersion, str(cadre), "Paul Mercier")
    employer = {s.nom: s for s in signatures(immersion) if s.partie == "employeur"}
    assert set(employer) == {"Sophie Lemaire", "Luc Ferrand"}

    # 1. The first employer signatory signs by their personal link.
    sign_by_link(page, employer["Sophie Lemaire"])

    # 2. The agent's page: the alert names the one who has not signed, and no start.
    page.goto(immersion.get_absolute_url())
    sign_in(page, cadre.email)
    page.wait_for_url(f"**{immersion.get_absolute_url()}")
    alert = page.locator("#alerte-signatures")
    assert alert.is_visible()
    assert alert.get_by_text("L'immersion ne peut pas commencer").is_visible()
    assert "L'administration d'emploi : Luc Ferrand (Responsable des ressources humaines)" in (
        alert.inner_text()
    )
    assert "Sophie Lemaire" not in alert.inner_text()
    assert page.get_by_role("button", name=START).count() == 0
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.EN_SIGNATURE

    # 3. The second employer signatory signs.
    sign_by_link(page, employer["Luc Ferrand"])
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.SIGNEE

    # 4. The alert is gone; the agent records the start.
    page.goto(immersion.get_absolute_url())
    assert page.locator("#alerte-signatures").count() == 0
    page.get_by_role("button", name=START).click()
    page.get_by_text("Le début de votre immersion est enregistré.").wait_for()
    immersion.refresh_from_db()
    assert immersion.commencee_le is not None
