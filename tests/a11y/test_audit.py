"""Issue 15: every page of the scope (``pages.py``), opened as the roles that read it,
has no serious or critical axe-core violation and no horizontal scroll at 375 and
1280 pixels wide; the forms, submitted empty, show their errors accessibly too.

The screenshots of four pages at both widths are kept in ``artifacts/a11y/``."""

from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from codev import services as codev_services
from config.accessibility import AUDITED_PAGES
from tests.a11y import pages as catalogue
from tests.a11y.axe import violations
from tests.a11y.conftest import DESKTOP, MOBILE
from tests.browser import sign_in

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "a11y"
SCREENSHOTS = {
    "portal:home": "accueil-espace",
    "codev:seance": "animation-seance",
    "immersion_public:signer": "signature-convention",
    "admin_dashboard": "tableau-de-bord",
}

# Forms submitted empty (browser validation off): (URL name, role, submit button).
ERROR_FORMS = [
    ("account_login", "anonymous", "Se connecter"),
    ("invitation_accept", "anonymous", "Activer mon compte"),
    ("account_reset_password", "anonymous", "Réinitialiser mon mot de passe"),
    ("account_change_password", "cadre", "Modifier le mot de passe"),
    ("portal:demande_create", "cadre", "Envoyer ma demande"),
    ("portal:evaluation", "cadre", "Envoyer mon évaluation"),
    ("coaching:schedule", "coach", "Planifier la séance"),
    ("coaching:detail", "coach", "Ajouter la note"),
    ("coaching:preselection", "cadre", "Transmettre mon choix"),
    ("coaching:entretien_reserver", "cadre", "Réserver l'entretien"),
    ("mentorat:besoins", "cadre", "Enregistrer mes souhaits"),
    ("mentorat:detail", "mentor", "Enregistrer la rencontre"),
    ("mentorat:point_etape", "cadre", "Envoyer mes réponses"),
    ("codev:groupe_create", "animateur", "Créer le groupe"),
    ("codev:groupe", "animateur", "Ajouter au groupe"),
    ("codev:groupe_edit", "animateur", "Enregistrer"),
    ("codev:seance", "animateur", "Enregistrer l'exposé"),
    ("immersion:new", "cadre", "Envoyer ma demande"),
    ("immersion_public:signer", "tutor", "Signer la convention"),
    ("immersion_public:retour", "tutor", "Envoyer mon retour"),
]
EMPTY_FORM = """button => {
    const form = button.form;
    form.noValidate = true;
    for (const field of form.elements) {
        if (["hidden", "submit", "button"].includes(field.type)) continue;
        if (field.type === "checkbox" || field.type === "radio") field.checked = false;
        else if (field.tagName === "SELECT") field.selectedIndex = -1;
        else field.value = "";
    }
}"""
ERRORS_SHOWN = ".fr-error-text, .fr-alert--error, .errorlist, [aria-invalid=true]"


def horizontal_overflow(page):
    """How many pixels the document is wider than the window (0: no horizontal scroll)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def resize(page, size):
    """New window size, once the page's resize observers have run (two frames)."""
    page.set_viewport_size(size)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def charts_without_table(page):
    """Ids of the charts (SVG images) whose description is not a data table."""
    return page.evaluate(
        """() => [...document.querySelectorAll("svg[role=img]")]
            .filter(svg => {
                const table = document.getElementById(svg.getAttribute("aria-describedby"));
                return !table || table.tagName !== "TABLE" || !table.rows.length;
            })
            .map(svg => svg.id || svg.getAttribute("aria-labelledby"))"""
    )


def open_page(page, path):
    """The response, or None when the address is a download (a file, not a page)."""
    try:
        return page.goto(path)
    except PlaywrightError as error:
        if "Download is starting" in error.message:
            return None
        raise


def screenshot(page, name, size):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-{size['width']}.png", full_page=True)


def test_every_page_of_the_scope_is_audited_or_skipped_with_a_reason():
    audited = {page.name for page in catalogue.pages()}
    left = set(catalogue.scope()) - audited - set(catalogue.AUDITED_APART)
    left -= set(catalogue.SKIP) | catalogue.post_only()
    assert not sorted(left), "pages without an audit: give them an OK row or a SKIP reason"
    stale = (set(catalogue.SKIP) | set(catalogue.AUDITED_APART)) - set(catalogue.scope())
    assert not sorted(stale), "lines of SKIP or AUDITED_APART naming no URL"


def test_every_page_passes_axe_and_fits_small_screens(contexts, world):
    codev_services.next_phase(world.seance)  # the runner with its clocks going
    problems, audited, tabs = [], set(), {}
    for entry in catalogue.pages():
        if entry.role not in tabs:
            tabs[entry.role] = contexts(entry.role).new_page()
        page = tabs[entry.role]
        path = entry.path(world)
        where = f"{entry.name} ({path}, {entry.role})"
        response = open_page(page, path)
        if response is None or not response.headers["content-type"].startswith("text/html"):
            continue  # a file (PDF, CSV, JSON...): nothing to audit
        if response.status != 200:
            problems.append(f"{where}: HTTP {response.status}")
            continue
        audited.add(entry.name)
        if charts := charts_without_table(page):
            problems.append(f"{where}: charts without a data table: {charts}")
        # At the tab's width first, then at the other one (the next page starts there).
        width = page.viewport_size["width"]
        sizes = (DESKTOP, MOBILE) if entry.small_screen else (DESKTOP,)
        for index, size in enumerate(sorted(sizes, key=lambda size: size["width"] != width)):
            if size["width"] != width:
                resize(page, size)
            at = f"{where} at {size['width']} px"
            problems += [f"{at}: {line}" for line in violations(page, contrast=index == 0)]
            if overflow := horizontal_overflow(page):
                problems.append(f"{at}: {overflow} px of horizontal scroll")
            if entry.name in SCREENSHOTS and entry.small_screen:  # its first reader's
                screenshot(page, SCREENSHOTS[entry.name], size)
    assert not problems, "\n".join(problems)
    # The accessibility statement lists exactly the pages audited here (and apart).
    audited |= set(catalogue.AUDITED_APART)
    listed = {name for _, names in AUDITED_PAGES for name, _ in names}
    assert sorted(audited - listed) == [], "add them to config/accessibility.py"
    assert sorted(listed - audited) == [], "not audited any more: remove them"


def test_the_second_factor_step_of_a_staff_sign_in(contexts, world):
    """The TOTP code page, between the password and the dashboard, then sent empty."""
    page = contexts("connexion").new_page()
    page.goto("/compte/login/")
    sign_in(page, world.users["delegue"].email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    problems = []
    for size in (DESKTOP, MOBILE):
        resize(page, size)
        problems += [f"{size['width']} px: {line}" for line in violations(page)]
        if overflow := horizontal_overflow(page):
            problems.append(f"{size['width']} px: {overflow} px of horizontal scroll")
    button = page.locator("main form button[type=submit]").first
    button.evaluate(EMPTY_FORM)
    with page.expect_navigation():
        button.click()
    assert page.locator(ERRORS_SHOWN).count()
    problems += [f"sent empty: {line}" for line in violations(page)]
    assert not problems, "\n".join(problems)


def test_forms_in_their_error_state(contexts, world):
    for _ in range(2):  # the runner in the exposé phase, with its form
        codev_services.next_phase(world.seance)
    rows = {entry.name: entry.row for entry in catalogue.pages()}
    problems, tabs = [], {}
    for name, role, button_name in ERROR_FORMS:
        if role not in tabs:
            tabs[role] = contexts(role).new_page()
        page = tabs[role]
        path = rows[name].path(world)
        page.goto(path)
        button = page.get_by_role("button", name=button_name, exact=True)
        button.evaluate(EMPTY_FORM)
        with page.expect_navigation():
            button.click()
        where = f"{name} ({path}, {role}) submitted empty"
        if not page.locator(ERRORS_SHOWN).count():
            problems.append(f"{where}: no error shown")
        problems += [f"{where}: {line}" for line in violations(page)]
        if overflow := horizontal_overflow(page):
            problems.append(f"{where}: {overflow} px of horizontal scroll")
    assert not problems, "\n".join(problems)
