"""The immersion journey in a real browser: the agent asks for an immersion in the
portal; the délégué (password + TOTP) records the hierarchy's agreement in the admin,
which generates the convention; the three parties sign it, each by their personal
link (no account); the agent's page then shows the convention fully signed.

Set SCREENSHOTS_DIR to keep a screenshot of each step."""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accompagnement.models import Notification
from accompagnement.working_days import next_working_day
from immersion import services
from immersion.models import Immersion, Signature
from tests.browser import sign_in, sign_out
from tests.factories import (
    StructureFactory,
    make_cadre_user,
    make_delegue,
    totp_code,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def shot(page, name):
    directory = os.environ.get("SCREENSHOTS_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{directory}/{name}.png", full_page=True)


def working_days(start, count):
    out, day = [], start
    while len(out) < count:
        day = next_working_day(day)
        out.append(day)
        day += timedelta(days=1)
    return out


def test_request_agreement_and_three_signatures_to_a_fully_signed_convention(page):
    ministere = StructureFactory(nom="Ministère de l'Économie", sigle="MEF")
    direction = StructureFactory(
        nom="Direction du budget", sigle="DB", parent=ministere, type="direction"
    )
    delegue = make_delegue(ministere, first_name="Sophie", last_name="Lemaire")
    cadre = make_cadre_user(structure=direction, prenom="Agnès", nom="Lambert")
    days = working_days(timezone.localdate() + relativedelta(months=4), 3)

    # 1. The agent asks for an immersion in the portal.
    page.goto("/espace/immersion/nouvelle/")
    sign_in(page, cadre.email)
    page.wait_for_url("**/espace/immersion/nouvelle/")
    form = page.locator("main form")
    form.locator("[name=motivation]").fill(
        "Comprendre le pilotage territorial des politiques budgétaires."
    )
    form.locator("[name=projet_professionnel]").fill("Rejoindre le corps préfectoral.")
    form.locator("[name=structure_accueil]").fill("Préfecture de la Gironde")
    form.locator("[name=lieu]").fill("2 esplanade Charles-de-Gaulle, Bordeaux")
    form.locator("[name=fonctions_observees]").fill("Direction de cabinet, gestion de crise")
    form.locator("[name=tuteur_nom]").fill("Hélène Garnier")
    form.locator("[name=tuteur_fonction]").fill("Directrice de cabinet")
    form.locator("[name=tuteur_email]").fill("helene.garnier@gironde.gouv.fr")
    form.locator("[name=accueil_representant_nom]").fill("Paul Mercier")
    form.locator("[name=accueil_representant_email]").fill("paul.mercier@gironde.gouv.fr")
    # The employing administration's representative is the délégué by default.
    assert form.locator("[name=employeur_representant_email]").input_value() == delegue.email
    form.locator("[name=jours]").fill("\n".join(f"{d:%d/%m/%Y}" for d in days))
    shot(page, "01-agent-request")
    form.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/espace/immersion/*/")
    immersion = Immersion.objects.get(cadre=cadre)
    assert immersion.statut == Immersion.Statut.DEMANDEE
    assert immersion.dates == days
    assert page.get_by_text("Votre demande d'immersion est transmise").is_visible()
    assert page.locator("#statut").text_content().strip() == "Demandée"
    shot(page, "02-agent-detail")
    sign_out(page)

    # 2. The délégué records the hierarchy's agreement in the admin (TOTP sign-in).
    change_url = f"/admin/immersion/immersion/{immersion.pk}/change/"
    page.goto(change_url)
    sign_in(page, delegue.email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(delegue))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**{change_url}")
    page.select_option("select[name=statut]", label="Accord de la hiérarchie")
    shot(page, "03-admin-decision")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/immersion/immersion/")
    assert page.get_by_text("Accord enregistré").is_visible()
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.EN_SIGNATURE
    convention = immersion.current_convention()
    assert convention.version == 1
    sign_out(page)

    # 3. Each party signs by their personal link, without an account.
    signatures = list(convention.signatures.order_by("pk"))
    assert {s.partie for s in signatures} == set(Signature.Partie)
    for number, signature in enumerate(signatures, start=1):
        page.goto(urlsplit(services.signature_url(signature)).path)
        assert page.get_by_role(
            "heading", name="Signature de la convention d'immersion"
        ).is_visible()
        assert page.get_by_text(convention.sha256).is_visible()
        page.get_by_label("Vos prénom et nom").fill(signature.nom)
        # DSFR draws the checkbox on its label: a user clicks the label.
        page.locator("label", has_text="J'ai lu la convention et je la signe").click()
        assert page.get_by_label("J'ai lu la convention et je la signe").is_checked()
        shot(page, f"04-sign-{number}-{signature.partie}")
        page.get_by_role("button", name="Signer la convention").click()
        page.get_by_role("heading", name="Signature enregistrée").wait_for()
        signature.refresh_from_db()
        assert signature.signe_le is not None
        assert signature.nom_signe == signature.nom
        assert signature.document_sha256 == convention.sha256
        assert signature.ip
    immersion.refresh_from_db()
    assert immersion.statut == Immersion.Statut.SIGNEE
    # Everyone is sent the signed convention (through the outbox).
    assert {n.email for n in Notification.objects.filter(kind="immersion_convention_signee")} == {
        s.email for s in signatures
    }

    # 4. The agent's page shows the convention signed by all.
    page.goto(f"/espace/immersion/{immersion.pk}/")
    sign_in(page, cadre.email)
    page.wait_for_url(f"**/espace/immersion/{immersion.pk}/")
    assert page.locator("#statut").text_content().strip() == "Convention signée"
    table = page.locator("table", has=page.locator("caption", has_text="Signatures"))
    assert table.locator("tbody tr").count() == 3
    assert table.get_by_text("signée le").count() == 3
    assert page.get_by_text("en attente").count() == 0
    assert page.locator("#alerte-signatures").count() == 0
    assert page.get_by_role("link", name="Signer la convention").count() == 0
    shot(page, "05-agent-signed")
