"""The délégué's back-office journey in a real browser: sign in, land on the
dashboard and its charts, import a file of cadres with one bad row, fix it, import
again (issue 8's browser test)."""

import pytest
from django.utils import timezone

from accompagnement.models import Demande
from cadres.models import Cadre
from tests.browser import sign_in
from tests.factories import CadreFactory, totp_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

HEADER = "matricule;civilité;nom;prénom;email;structure"
GOOD = [
    "IMP001;Mme;Garnier;Lucie;lucie.garnier@a.gouv.fr;DA1",
    "IMP002;M.;Perrin;Hugo;hugo.perrin@a.gouv.fr;SA11",
]
BAD = "IMP003;Mme;Roche;Inès;pas-une-adresse;DA1"
FIXED = "IMP003;Mme;Roche;Inès;ines.roche@a.gouv.fr;DA1"


def upload(page, tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    page.check("input[name=nature][value=cadres]")
    page.set_input_files("#id_fichier", str(path))
    page.get_by_role("button", name="Analyser le fichier").click()
    page.wait_for_selector("#import-apercu")


def test_delegue_reads_the_dashboard_then_imports_fixes_and_reimports(
    page, two_ministries, tmp_path
):
    m = two_ministries
    delegue = m["delegue_a"]
    for cadre in [m["cadre_a"], CadreFactory(structure=m["a_dir"], civilite="m")]:
        Demande.objects.create(
            cadre=cadre,
            dispositif="coaching",
            contexte="prise_de_poste",
            motivation="Prise de poste.",
            recue_le=timezone.now() - timezone.timedelta(days=3),
        )

    # Sign in (password, then TOTP): a délégué lands on the dashboard.
    page.goto("/compte/login/")
    sign_in(page, delegue.email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(delegue))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/admin/tableau-de-bord/")

    # Real charts, each with its data table.
    assert page.get_by_role("heading", name="Demandes", exact=True).is_visible()
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 3
    assert charts.first.locator("rect").count() >= 1
    first_table = page.locator("figure details").first
    first_table.locator("summary").click()
    assert first_table.locator("table caption").is_visible()
    assert page.locator("#section-1 ~ dl").get_by_text("Demandes reçues").is_visible()

    # Import a file with one bad row: the preview names it, nothing is saved.
    page.locator("#lien-import").click()
    upload(page, tmp_path, "cadres.csv", [*GOOD, BAD])
    rows = page.locator("#import-erreurs tbody tr")
    assert rows.count() == 1
    # Line 4 of the file (the header is line 1), the email column.
    assert rows.first.locator("td").nth(0).inner_text().strip() == "4"
    assert "mail" in rows.first.locator("td").nth(1).inner_text()
    assert not Cadre.objects.filter(matricule__startswith="IMP").exists()

    # Fix it and import again: no error left, confirm, the report counts three.
    page.locator("#import-nouveau").click()
    upload(page, tmp_path, "cadres-corrige.csv", [*GOOD, FIXED])
    assert page.locator("#import-erreurs").count() == 0
    page.locator("#import-confirmer").click()
    page.wait_for_selector("#import-rapport")
    report = page.locator("#import-rapport")
    created = report.locator("tr", has_text="créés").locator("td").inner_text()
    assert created.strip() == "3"
    assert set(
        Cadre.objects.filter(matricule__startswith="IMP").values_list("email", flat=True)
    ) == {"lucie.garnier@a.gouv.fr", "hugo.perrin@a.gouv.fr", "ines.roche@a.gouv.fr"}

    # The same file once more: three unchanged rows, nothing new (idempotent).
    page.locator("#import-nouveau").click()
    upload(page, tmp_path, "cadres-corrige.csv", [*GOOD, FIXED])
    assert page.locator("#import-erreurs").count() == 0
    assert "3" in page.locator("#import-apercu").inner_text()
    assert Cadre.objects.filter(matricule__startswith="IMP").count() == 3
