"""The coaching journey in a real browser: a délégué accepts a cadre's coaching request
in the admin, which opens an engagement, and a coach is assigned; the coach schedules
a session in the portal; the cadre sees it on their home page and coaching page.

Set SCREENSHOTS_DIR to keep a screenshot of each step."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accompagnement.models import Demande
from accompagnement.services import demandes
from cadres.models import Role
from cadres.services import grant_role
from coaching.models import Coaching, SeanceCoaching
from tests.browser import sign_in, sign_out
from tests.factories import (
    CoachFactory,
    StructureFactory,
    UserFactory,
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


def test_request_accepted_coach_assigned_session_scheduled_and_seen_by_the_cadre(page):
    ministere = StructureFactory(nom="Ministère de l'Économie", sigle="MEF")
    direction = StructureFactory(
        nom="Direction du budget", sigle="DB", parent=ministere, type="direction"
    )
    delegue = make_delegue(ministere)
    cadre = make_cadre_user(structure=direction, prenom="Agnès", nom="Lambert")
    coach_user = UserFactory(first_name="Corinne", last_name="Durand")
    grant_role(coach_user, Role.Kind.COACH)
    coach = CoachFactory(
        user=coach_user,
        email=coach_user.email,
        prenom="Corinne",
        nom="Durand",
        organisme="Cabinet Trajectoires",
    )
    demande = demandes.submit(
        cadre,
        dispositif="coaching",
        contexte=Demande.Contexte.PRISE_DE_POSTE,
        motivation="Je prends la direction d'une sous-direction de 80 agents.",
        by=cadre.user,
    )

    # 1. The délégué accepts the request in the admin (TOTP sign-in).
    page.goto(f"/admin/accompagnement/demande/{demande.pk}/change/")
    sign_in(page, delegue.email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(delegue))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**/admin/accompagnement/demande/{demande.pk}/change/")
    page.select_option("select[name=statut]", label="Acceptée")
    shot(page, "01-admin-demande")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/accompagnement/demande/")
    coaching = Coaching.objects.get(cadre=cadre)
    assert coaching.demande_id == demande.pk
    assert coaching.statut == Coaching.Statut.A_AFFECTER

    # 2. ... opens the engagement it created and assigns a coach (admin autocomplete).
    page.goto(f"/admin/coaching/coaching/{coaching.pk}/change/")
    assert page.get_by_text("Corinne DURAND").first.is_visible()  # among the suggestions
    page.locator("select[name=coach] + .select2").click()
    page.locator(".select2-search__field").fill("Durand")
    page.locator(".select2-results__option", has_text="Corinne DURAND").click()
    shot(page, "02-admin-coaching")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/coaching/coaching/")
    assert page.get_by_text("le coaching est contractualisé").is_visible()
    coaching.refresh_from_db()
    assert coaching.coach_id == coach.pk
    assert coaching.statut == Coaching.Statut.CONTRACTUALISE
    sign_out(page)

    # 3. The coach opens the coaching from their portal home and schedules a session.
    page.goto("/espace/")
    sign_in(page, coach_user.email)
    page.wait_for_url("**/espace/")
    page.get_by_role("link", name="Coaching de Agnès LAMBERT").click()
    page.wait_for_url(f"**/espace/coaching/{coaching.pk}/")
    assert page.get_by_role("heading", name="Mes notes privées").is_visible()
    debut = (timezone.localtime() + timedelta(days=7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.get_by_label("Date et heure").fill(debut.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Durée (minutes)").fill("90")
    page.get_by_label("Modalité").select_option(label="Présentiel")
    page.get_by_label("Lieu").fill("Salle 4012, bâtiment Colbert")
    shot(page, "03-coach-schedule")
    page.get_by_role("button", name="Planifier la séance").click()
    page.get_by_text("Séance n° 1 planifiée").wait_for()
    seance = SeanceCoaching.objects.get(coaching=coaching)
    assert seance.debut == debut and seance.duree == 90
    assert page.locator(f"#seance-{seance.pk}").get_by_text("Salle 4012").is_visible()
    shot(page, "04-coach-detail")
    sign_out(page)

    # 4. The cadre sees it under "Mes prochains rendez-vous" and on the coaching page.
    page.goto("/espace/")
    sign_in(page, cadre.email)
    page.wait_for_url("**/espace/")
    rdv = page.locator("section", has=page.get_by_role("heading", name="Mes prochains rendez-vous"))
    assert rdv.get_by_text("Coaching – séance n° 1").is_visible()
    assert rdv.get_by_text("Salle 4012, bâtiment Colbert").is_visible()
    shot(page, "05-cadre-home")
    page.get_by_role("link", name="Mon coaching").click()
    page.wait_for_url(f"**/espace/coaching/{coaching.pk}/")
    row = page.locator(f"#seance-{seance.pk}")
    assert row.get_by_text("Salle 4012, bâtiment Colbert").is_visible()
    assert row.get_by_role("button", name="Demander un report").is_visible()
    assert page.locator("#compteur-seances").inner_text() == "Séances utilisées : 1 / 6"
    assert page.get_by_text("Cabinet Trajectoires").is_visible()
    assert page.get_by_role("heading", name="Mes notes privées").count() == 0
    shot(page, "06-cadre-detail")
