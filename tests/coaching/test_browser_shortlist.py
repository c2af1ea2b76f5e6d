"""Discovery meetings in a real browser: a cadre is shown a shortlist of three coaches,
books two discovery meetings, chooses a coach with a reason; the délégué confirms in
the admin; the cadre's coaching then shows its coach and the counter 0 / 6.

Set SCREENSHOTS_DIR to keep a screenshot of each step."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from coaching import services
from coaching.models import Coaching, EntretienDecouverte, Preselection
from tests.browser import sign_in, sign_out
from tests.factories import (
    CoachFactory,
    CoachingFactory,
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


def make_coach(prenom, nom, organisme):
    user = UserFactory(first_name=prenom, last_name=nom)
    grant_role(user, Role.Kind.COACH)
    return CoachFactory(user=user, email=user.email, prenom=prenom, nom=nom, organisme=organisme)


def test_cadre_meets_two_shortlisted_coaches_chooses_and_the_delegue_confirms(page):
    ministere = StructureFactory(nom="Ministère de l'Intérieur", sigle="MI")
    direction = StructureFactory(
        nom="Direction des libertés publiques", sigle="DLPAJ", parent=ministere, type="direction"
    )
    delegue = make_delegue(ministere)
    cadre = make_cadre_user(structure=direction, prenom="Agnès", nom="Lambert")
    coaches = [
        make_coach("Corinne", "Durand", "Cabinet Trajectoires"),
        make_coach("Paul", "Mercier", "Alter Coaching"),
        make_coach("Inès", "Roux", "Cap Dirigeants"),
    ]
    coaching = CoachingFactory(cadre=cadre)
    services.propose_shortlist(coaching, coaches, by=delegue)

    # 1. The cadre is shown the shortlist from their home page.
    page.goto("/espace/")
    sign_in(page, cadre.email)
    page.wait_for_url("**/espace/")
    page.get_by_role("link", name="Mon coaching").click()
    page.wait_for_url(f"**/espace/coaching/{coaching.pk}/preselection/")
    for name in ("Corinne DURAND", "Paul MERCIER", "Inès ROUX"):
        assert page.get_by_role("heading", name=name).is_visible()
    assert page.get_by_text("Cap Dirigeants").is_visible()
    shot(page, "01-cadre-shortlist")

    # 2. ... books a discovery meeting with two of them.
    for days, coach in ((3, coaches[0]), (4, coaches[1])):
        page.get_by_role("link", name=f"Réserver un entretien avec {coach}").click()
        page.wait_for_url("**/entretien/")
        debut = (timezone.localtime() + timedelta(days=days)).replace(hour=9, minute=30)
        page.get_by_label("Date et heure").fill(debut.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Modalité").select_option(label="Distanciel")
        page.get_by_label("Lien de visioconférence").fill("https://webconf.numerique.gouv.fr/rdv")
        shot(page, f"02-book-{coach.nom}")
        page.get_by_role("button", name="Réserver l'entretien").click()
        page.get_by_text(f"Entretien de découverte avec {coach} réservé").wait_for()
    meetings = EntretienDecouverte.objects.filter(proposition__preselection__coaching=coaching)
    assert {(e.proposition.coach, e.duree) for e in meetings} == {
        (coaches[0], 30),
        (coaches[1], 30),
    }
    assert page.get_by_role("link", name="Réserver un entretien avec Inès ROUX").is_visible()

    # 3. ... and chooses one, with a reason.
    page.locator("label", has_text="Paul MERCIER").click()  # DSFR hides the radio itself
    assert page.get_by_label("Paul MERCIER").is_checked()
    page.get_by_label("Pourquoi ce coach ?").fill("Son expérience des réorganisations.")
    shot(page, "03-cadre-choice")
    page.get_by_role("button", name="Transmettre mon choix").click()
    page.get_by_text("Votre choix (Paul MERCIER) est transmis à votre délégué").wait_for()
    assert page.get_by_text("Choix du cadre à confirmer").first.is_visible()
    sign_out(page)

    # 4. The délégué confirms the choice in the admin.
    page.goto(f"/admin/coaching/coaching/{coaching.pk}/change/")
    sign_in(page, delegue.email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(delegue))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**/admin/coaching/coaching/{coaching.pk}/change/")
    page.get_by_role("link", name="Voir la présélection").click()
    page.wait_for_url("**/preselection/")
    assert page.get_by_text("Son expérience des réorganisations.").is_visible()
    shot(page, "04-delegue-confirm")
    page.get_by_role("button", name="Confirmer le choix").click()
    page.wait_for_url(f"**/admin/coaching/coaching/{coaching.pk}/change/")
    assert page.get_by_text("Choix confirmé : Paul MERCIER est affecté").is_visible()
    coaching.refresh_from_db()
    assert coaching.coach == coaches[1] and coaching.statut == Coaching.Statut.CONTRACTUALISE
    assert Preselection.objects.get(coaching=coaching).statut == Preselection.Statut.CONFIRMEE
    released = EntretienDecouverte.objects.get(proposition__coach=coaches[0])
    assert released.statut == EntretienDecouverte.Statut.ANNULEE
    sign_out(page)

    # 5. The cadre's coaching shows the coach and the sessions counter.
    page.goto(f"/espace/coaching/{coaching.pk}/")
    sign_in(page, cadre.email)
    page.wait_for_url(f"**/espace/coaching/{coaching.pk}/")
    assert page.locator("#compteur-seances").inner_text() == "Séances utilisées : 0 / 6"
    assert page.get_by_text("Alter Coaching").is_visible()
    shot(page, "05-cadre-coaching")
