"""Issue 15: the main journeys with the keyboard alone (Tab, Shift+Tab, Enter, Space,
arrows), the focus visible at every step and never trapped; the séance runner's clocks
announced politely to screen readers, and paused."""

import pytest
from playwright.sync_api import expect

from accompagnement.models import Demande
from codev.models import PlanAction, Seance
from immersion.models import Signature
from mentorat.models import Rencontre
from tests.a11y.keyboard import Keyboard

pytestmark = pytest.mark.browser

PHASE_1 = "Tour d'ouverture : suivi du dernier plan d'action"


def tab(contexts, role, path):
    page = contexts(role).new_page()
    page.goto(path)
    return page, Keyboard(page)


def test_a_cadre_asks_for_a_scheme(contexts, world):
    page, keys = tab(contexts, "cadre", "/espace/")
    keys.through_the_whole_page()
    page.goto("/espace/")
    keys.activate(page.get_by_role("link", name="Demander un accompagnement"))
    page.wait_for_url("**/espace/demandes/nouvelle/")

    keys.tab_to(page.locator("#id_dispositif"))
    keys.press("ArrowDown")  # Coaching
    keys.press("ArrowDown")  # Mentorat
    keys.tab_to(page.locator("#id_contexte"))
    keys.press("ArrowDown")
    keys.tab_to(page.locator("#id_motivation"))
    keys.type("Préparer une prise de poste de directrice.")
    # Back up to the context to check it, then on to the button.
    keys.tab_to(page.locator("#id_contexte"), backwards=True)
    assert page.locator("#id_contexte").input_value()
    keys.activate(page.get_by_role("button", name="Envoyer ma demande"))

    demande = Demande.objects.filter(cadre=world.cadre, dispositif="mentorat").get()
    assert demande.motivation == "Préparer une prise de poste de directrice."
    assert page.locator(".fr-alert--success").count()


def test_a_tutor_signs_the_convention(contexts, world):
    page, keys = tab(contexts, "tutor", f"/immersion/signer/{world.signature_token}/")
    keys.through_the_whole_page()
    page.reload()
    keys.tab_to(page.locator("#id_nom"))
    keys.type("Théo Tuteur")
    keys.tab_to(page.locator("#id_accepte"))
    keys.press("Space")
    assert page.locator("#id_accepte").is_checked()
    keys.activate(page.get_by_role("button", name="Signer la convention"))

    signature = world.convention.signatures.get(partie=Signature.Partie.ACCUEIL)
    assert signature.signe_le is not None and signature.nom_signe == "Théo Tuteur"


def test_a_mentor_logs_a_meeting(contexts, world):
    page, keys = tab(contexts, "mentor", f"/espace/mentorat/{world.mentorat.pk}/")
    before = Rencontre.objects.filter(mentorat=world.mentorat).count()
    keys.tab_to(page.locator("#id_debut"))
    # Day and month alike: the same date whatever order the browser's locale shows.
    keys.type("12122026")
    keys.press("Tab")  # on to the time
    keys.type("1430")
    assert page.locator("#id_debut").input_value() == "2026-12-12T14:30"
    keys.tab_to(page.locator("#id_lieu"))
    keys.type("Café du ministère")
    keys.activate(page.get_by_role("button", name="Enregistrer la rencontre"))
    assert Rencontre.objects.filter(mentorat=world.mentorat).count() == before + 1


def next_phase(keys, page, name="Phase suivante"):
    keys.activate(page.get_by_role("button", name=name))


def test_an_animateur_runs_a_seance_through_its_six_phases(contexts, world):
    page = contexts("animateur").new_page()
    # The countdowns run on the browser's clock: a fake one, to reach the last minute.
    page.clock.install()
    page.goto(f"/codev/seances/{world.seance.pk}/")
    keys = Keyboard(page)
    keys.activate(page.get_by_role("button", name="Enregistrer la présence"))
    next_phase(keys, page, "Commencer la séance")

    # The opening round: two clocks (role timer), a polite live region that announces
    # the last minute, a pause that freezes them; nothing holds the focus.
    expect(page.locator('#phases [aria-current="step"]')).to_contain_text("Tour d'ouverture")
    countdown = page.locator("[data-countdown]")
    assert countdown.get_attribute("role") == "timer"
    assert page.locator("[data-countdown-seance]").get_attribute("role") == "timer"
    live = page.locator("[data-announce]")
    assert live.get_attribute("aria-live") == "polite" and live.inner_text() == ""
    page.clock.fast_forward("09:40")
    expect(live).to_have_text("Plus qu'une minute pour la phase « " + PHASE_1 + " ».")
    keys.activate(page.get_by_role("button", name="Mettre en pause"))
    expect(page.locator("#pause")).to_contain_text("les comptes à rebours sont arrêtés")
    frozen = countdown.inner_text()
    page.clock.fast_forward("00:05")
    assert countdown.inner_text() == frozen
    keys.through_the_whole_page()
    page.reload()
    keys.activate(page.get_by_role("button", name="Reprendre"))

    # 1. Exposé, typed and saved; 2. clarification; 3. contrat; 4. exploration.
    next_phase(keys, page)
    keys.tab_to(page.locator("#id_probleme_probleme"))
    keys.type("Mon équipe résiste au nouvel outil.")
    keys.activate(page.get_by_role("button", name="Enregistrer l'exposé"))
    for _ in range(4):
        next_phase(keys, page)
    # 5. Synthèse: the client's action plan.
    expect(page.locator('#phases [aria-current="step"]')).to_contain_text("5. Synthèse")
    keys.tab_to(page.locator("#id_plan_actions"))
    keys.type("Réunir les chefs de bureau lundi.")
    keys.activate(page.get_by_role("button", name="Enregistrer le plan d'action"))
    # 6. Apprentissages et régulation: the group's mark with the arrows, then close.
    next_phase(keys, page)
    keys.tab_to(page.locator("#id_regulation_note_regulation_0"))
    for _ in range(3):
        keys.press("ArrowRight")
    keys.activate(page.get_by_role("button", name="Enregistrer l'appréciation"))
    next_phase(keys, page, "Clore la séance")

    seance = Seance.objects.get(pk=world.seance.pk)
    assert seance.statut == Seance.Statut.REALISEE and seance.note_regulation == 4
    assert seance.probleme == "Mon équipe résiste au nouvel outil."
    assert PlanAction.objects.get(seance=seance).actions == "Réunir les chefs de bureau lundi."
