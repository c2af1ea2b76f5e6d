"""The co-development journey in a real browser: an animateur creates a group in the
facilitator space, adds three members by email, plans the cycle, runs the first séance
phase by phase (the countdown ticks: its script runs under the CSP) and records the
client's action plan; the client then finds the group on their home page and the plan
on the group's page.

Set SCREENSHOTS_DIR to keep a screenshot of each step."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import EvaluationSeance, Groupe, PlanAction, Seance
from tests.browser import sign_in, sign_out
from tests.factories import GroupeFactory, StructureFactory, UserFactory, make_cadre_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def shot(page, name):
    directory = os.environ.get("SCREENSHOTS_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{directory}/{name}.png", full_page=True)


def next_step(page, button="Phase suivante"):
    step = page.locator('#phases [aria-current="step"]')
    before = step.inner_text() if step.count() else ""
    page.get_by_role("button", name=button).click()
    if button != "Clore la séance":
        page.wait_for_function(
            "before => { const s = document.querySelector('#phases [aria-current=\"step\"]');"
            " return s && s.innerText !== before; }",
            arg=before,
        )


def test_animateur_runs_a_seance_and_the_client_finds_the_action_plan(page):
    ministere = StructureFactory(nom="Ministère de l'Intérieur", sigle="MIOM")
    animateur = UserFactory(first_name="Arnaud", last_name="Fabre")
    grant_role(animateur, Role.Kind.ANIMATEUR)
    cadres = [
        make_cadre_user(structure=ministere, prenom=prenom, nom=nom)
        for prenom, nom in (("Agnès", "Lambert"), ("Bruno", "Carré"), ("Chloé", "Nguyen"))
    ]

    # 1. The animateur signs in and creates a group in the facilitator space.
    page.goto("/codev/")
    sign_in(page, animateur.email)
    page.wait_for_url("**/codev/")
    page.get_by_role("link", name="Créer un groupe").click()
    page.wait_for_url("**/codev/groupes/nouveau/")
    start = timezone.localdate() + timedelta(days=7)
    page.fill("#id_nom", "Codev des sous-directeurs")
    page.fill("#id_theme", "Conduire le changement dans son service")
    page.select_option("#id_structure", label="MIOM – Ministère de l'Intérieur")
    page.select_option("#id_mode", label="Présentiel")
    page.fill("#id_lieu", "Place Beauvau, salle Lépine")
    page.fill("#id_date_debut", start.isoformat())
    page.fill("#id_date_fin", (start + timedelta(days=200)).isoformat())
    page.fill("#id_rythme_semaines", "3")
    page.fill("#id_nb_seances_cible", "3")
    page.fill("#id_heure", "14:00")
    shot(page, "01-creer-groupe")
    page.get_by_role("button", name="Créer le groupe").click()
    page.get_by_text("Groupe « Codev des sous-directeurs » créé.").wait_for()
    groupe = Groupe.objects.get(nom="Codev des sous-directeurs")
    assert groupe.animateur_id == animateur.pk

    # 2. ... adds three members by email.
    for cadre in cadres:
        page.fill("#id_ajout_email", cadre.email.upper())
        page.get_by_role("button", name="Ajouter au groupe").click()
        page.get_by_text(f"{cadre} a rejoint le groupe.").wait_for()
    assert page.get_by_role("heading", name="Membres (3 sur 8 au plus)").is_visible()

    # 3. ... plans the cycle: three séances, one client each.
    page.get_by_role("button", name="Planifier le cycle").click()
    page.get_by_text("3 séance(s) planifiée(s)").wait_for()
    shot(page, "02-groupe")
    seances = list(Seance.objects.filter(groupe=groupe).order_by("numero"))
    assert len(seances) == 3
    assert {s.client.cadre_id for s in seances} == {c.pk for c in cadres}
    first = seances[0]
    client_cadre = first.client.cadre
    row = page.locator(f"#seance-{first.pk}")
    assert row.get_by_role("cell", name=str(client_cadre), exact=True).is_visible()
    assert row.get_by_label("Client de la séance n° 1").input_value() == str(first.client_id)

    # 4. ... opens the first séance's runner, takes attendance and starts.
    page.get_by_role("link", name="Animer la séance n° 1").click()
    page.wait_for_url(f"**/codev/seances/{first.pk}/")
    assert page.locator("#client").inner_text() == str(client_cadre)
    page.get_by_role("button", name="Enregistrer la présence").click()
    page.get_by_text("Présence enregistrée : 3 présent(s) sur 3.").wait_for()
    next_step(page, "Commencer la séance")
    assert "Tour d'ouverture" in page.locator('#phases [aria-current="step"]').inner_text()

    # The countdown is drawn by the static script: it ticks under the CSP.
    countdown = page.locator("[data-countdown]")
    before = countdown.inner_text()
    page.wait_for_timeout(1500)
    after = countdown.inner_text()
    assert before != after, (before, after)
    assert after.startswith("09:") or after == "10:00"
    shot(page, "03-ouverture")

    # A reload resumes the same phase.
    page.reload()
    assert "Tour d'ouverture" in page.locator('#phases [aria-current="step"]').inner_text()

    # 5. Exposé: the client's problem.
    next_step(page)
    page.fill("#id_probleme_probleme", "Mon équipe résiste au nouvel outil de planification.")
    page.get_by_role("button", name="Enregistrer l'exposé").click()
    page.get_by_text("Exposé du client enregistré.").wait_for()
    next_step(page)  # clarification
    assert page.get_by_text("Mon équipe résiste au nouvel outil").is_visible()

    # Contrat: the kind of help asked.
    next_step(page)
    page.get_by_text("Des idées et des pistes d'action").click()
    page.fill("#id_contrat_contrat", "Comment embarquer les plus réticents ?")
    # Moving on before saving asks first (the script again); declining stays put.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Phase suivante").click()
    page.wait_for_timeout(300)
    assert dialogs == [
        "Une saisie n'est pas enregistrée et sera perdue. Passer quand même à la suite ?"
    ]
    assert "3. Contrat" in page.locator('#phases [aria-current="step"]').inner_text()
    page.get_by_role("button", name="Enregistrer le contrat").click()
    page.get_by_text("Contrat enregistré.").wait_for()
    next_step(page)  # exploration

    # Synthèse: the client's action plan.
    next_step(page)
    assert "5. Synthèse" in page.locator('#phases [aria-current="step"]').inner_text()
    page.fill(
        "#id_plan_actions",
        "Réunir les chefs de bureau lundi.\nDésigner deux référents de l'outil.",
    )
    shot(page, "04-synthese")
    page.get_by_role("button", name="Enregistrer le plan d'action").click()
    page.get_by_text("Plan d'action enregistré").wait_for()

    # Apprentissages et régulation.
    next_step(page)
    page.get_by_label(f"Apprentissages de {cadres[1]}").fill("Poser des questions ouvertes.")
    page.get_by_role("button", name="Enregistrer les apprentissages").click()
    page.get_by_text("Apprentissages enregistrés (1).").wait_for()
    page.get_by_text("5 sur 5").click()
    page.get_by_role("button", name="Enregistrer l'appréciation").click()
    page.get_by_text("Appréciation du groupe enregistrée.").wait_for()
    shot(page, "05-apprentissages")
    next_step(page, "Clore la séance")
    page.get_by_text("Séance n° 1 close.").wait_for()
    shot(page, "06-close")
    first.refresh_from_db()
    assert first.statut == Seance.Statut.REALISEE and first.note_regulation == 5
    assert first.contrat == "Comment embarquer les plus réticents ?"
    plan = PlanAction.objects.get(seance=first)
    assert plan.membre.cadre_id == client_cadre.pk
    sign_out(page)

    # 6. The client finds the group on their home page and the plan on its page.
    page.goto("/espace/")
    sign_in(page, client_cadre.email)
    page.wait_for_url("**/espace/")
    page.get_by_role("link", name="Groupe « Codev des sous-directeurs »").click()
    page.wait_for_url(f"**/codev/groupes/{groupe.pk}/")
    plans = page.locator("#plans")
    assert plans.get_by_text("Réunir les chefs de bureau lundi.").is_visible()
    assert plans.get_by_text("Désigner deux référents de l'outil.").is_visible()
    assert page.get_by_role("link", name="Animer la séance n° 2").count() == 0
    shot(page, "07-client")


def test_the_runner_announces_an_overrun_pauses_and_members_evaluate(page):
    """Time left in the phase and in the séance, the overrun shown and announced in the
    polite live region, the pause that freezes the clocks; then a member present answers
    the four-A evaluation, once."""
    animateur = UserFactory(first_name="Arnaud", last_name="Fabre")
    grant_role(animateur, Role.Kind.ANIMATEUR)
    groupe = GroupeFactory(nom="Codev des directeurs", animateur=animateur)
    membres = [services.add_member(groupe, make_cadre_user()) for _ in range(3)]
    services.generate_cycle(groupe)
    seance = groupe.seances.get(numero=1)
    services.next_phase(seance)
    # Fifteen seconds left in the opening round, begun with the séance.
    begun = timezone.now() - timedelta(minutes=10) + timedelta(seconds=15)
    Seance.objects.filter(pk=seance.pk).update(phase_debut=begun, commencee_le=begun)

    page.goto(f"/codev/seances/{seance.pk}/")
    sign_in(page, animateur.email)
    page.wait_for_url(f"**/codev/seances/{seance.pk}/")
    live = page.locator("[data-announce]")
    assert live.get_attribute("aria-live") == "polite"
    assert page.locator("[data-overrun-alert]").is_hidden()
    overall = page.locator("[data-countdown-seance]")
    assert overall.inner_text().startswith("1:50:") or overall.inner_text() == "1:49:59"
    page.wait_for_function(
        "() => document.querySelector('[data-announce]').textContent.includes('dépasse')",
        timeout=25000,
    )
    assert live.inner_text() == (
        "La phase « Tour d'ouverture : suivi du dernier plan d'action » dépasse le temps prévu."
    )
    assert page.locator("[data-overrun-alert]").is_visible()
    assert page.locator("[data-countdown]").inner_text().startswith("Temps écoulé (+")
    shot(page, "10-depassement")

    # Pause: the clocks stop.
    page.get_by_role("button", name="Mettre en pause").click()
    page.get_by_text("Séance en pause : le compte à rebours est arrêté.").wait_for()
    frozen = page.locator("[data-countdown]").inner_text()
    page.wait_for_timeout(1500)
    assert page.locator("[data-countdown]").inner_text() == frozen
    shot(page, "11-pause")
    page.get_by_role("button", name="Reprendre").click()
    page.get_by_text("La séance reprend").wait_for()

    # Closed: a member present evaluates it from the group's page.
    while not Seance.objects.get(pk=seance.pk).terminee_le:
        services.next_phase(seance)
    sign_out(page)
    member = membres[1].cadre
    page.goto(f"/codev/groupes/{groupe.pk}/")
    sign_in(page, member.email)
    page.wait_for_url(f"**/codev/groupes/{groupe.pk}/")
    page.get_by_role("link", name="Évaluer la séance n° 1").click()
    for question, answer in (
        ("Appréciation", "4 – bien"),
        ("Attentes", "5 – tout à fait"),
        ("Apprentissages", "3 – moyennement"),
        ("Applications", "4 – bien"),
    ):
        page.get_by_role("group", name=question).get_by_text(answer, exact=True).click()
    shot(page, "12-evaluation")
    page.get_by_role("button", name="Envoyer ma réponse anonyme").click()
    page.get_by_text("Merci : votre réponse anonyme est enregistrée.").wait_for()
    assert page.get_by_role("link", name="Évaluer la séance n° 1").count() == 0
    answer = EvaluationSeance.objects.get(seance=seance)
    assert (answer.appreciation, answer.attentes, answer.apprentissages) == (4, 5, 3)
    assert answer.applications == 4
