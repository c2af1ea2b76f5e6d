"""The mentoring journey in a real browser: a proposal is waiting for both sides; the
mentor opens it from their portal home and accepts with the charter, then the
mentee does; the mentee logs a meeting held with a private note, which the mentor
never reads.

Set SCREENSHOTS_DIR to keep a screenshot of each step."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accompagnement.models import Session
from cadres.models import Role
from cadres.services import grant_role
from mentorat.models import Mentorat, Mentore, NotePrivee, Rencontre
from tests.browser import sign_in, sign_out
from tests.factories import (
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SECRET = "Envisage une mobilité vers la préfectorale, à préparer"
CHARTE = "J'ai lu la charte du mentorat"


def shot(page, name):
    directory = os.environ.get("SCREENSHOTS_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{directory}/{name}.png", full_page=True)


def accept_charter(page):
    """DSFR draws the checkbox inside its label: the user clicks the label."""
    page.locator("label[for=id_charte]").click()
    assert page.get_by_label(CHARTE).is_checked()


def test_both_accept_the_proposal_the_mentee_logs_a_meeting_and_keeps_the_note(page):
    ministere = StructureFactory(nom="Ministère de l'Économie", sigle="MEF")
    direction = StructureFactory(
        nom="Direction du budget", sigle="DB", parent=ministere, type="direction"
    )
    mentee = make_cadre_user(structure=direction, prenom="Agnès", nom="Lambert")
    MentoreFactory(cadre=mentee, statut=Mentore.Statut.PROPOSE)
    mentor_user = UserFactory(first_name="Hélène", last_name="Marchand")
    grant_role(mentor_user, Role.Kind.MENTOR)
    mentor = MentorFactory(
        user=mentor_user, email=mentor_user.email, prenom="Hélène", nom="Marchand"
    )
    mentorat = MentoratFactory(mentor=mentor, mentore=mentee)
    url = f"**/espace/mentorat/{mentorat.pk}/"

    # 1. The mentor opens the proposal from their portal home and accepts the charter.
    page.goto("/espace/")
    sign_in(page, mentor_user.email)
    page.wait_for_url("**/espace/")
    shot(page, "01-mentor-home")
    todo = page.locator("section", has=page.get_by_role("heading", name="À faire"))
    assert todo.get_by_role(
        "link", name="Répondre à la proposition de mentorat de Agnès LAMBERT"
    ).is_visible()
    page.get_by_role("link", name="Mentorat de Agnès LAMBERT", exact=True).click()
    page.wait_for_url(url)
    assert page.get_by_role("heading", name="Charte du mentorat").is_visible()
    accept_charter(page)
    shot(page, "02-mentor-proposal")
    page.get_by_role("button", name="Accepter la proposition").click()
    page.get_by_text("Votre acceptation est enregistrée").wait_for()
    assert page.get_by_text("Vous avez accepté cette proposition").is_visible()
    mentorat.refresh_from_db()
    assert mentorat.charte_mentor_le is not None
    assert mentorat.statut == Mentorat.Statut.PROPOSE
    sign_out(page)

    # 2. The mentee accepts in turn: the mentoring begins.
    page.goto("/espace/")
    sign_in(page, mentee.email)
    page.wait_for_url("**/espace/")
    page.get_by_role(
        "link", name="Répondre à la proposition de mentorat avec Hélène MARCHAND"
    ).click()
    page.wait_for_url(url)
    accept_charter(page)
    page.get_by_role("button", name="Accepter la proposition").click()
    page.get_by_text("Proposition acceptée de part et d'autre").wait_for()
    assert page.locator("#statut-mentorat").text_content().strip() == "Accepté"
    mentorat.refresh_from_db()
    assert mentorat.statut == Mentorat.Statut.ACCEPTE

    # 3. ... and logs a meeting held last week, with a private note.
    debut = (timezone.localtime() - timedelta(days=7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    form = page.locator("section", has=page.get_by_role("heading", name="Saisir une rencontre"))
    form.get_by_label("Date et heure").fill(debut.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Durée (minutes)").fill("75")
    form.get_by_label("Modalité").select_option(label="Présentiel")
    form.get_by_label("Lieu").fill("Café du Palais-Royal")
    form.get_by_label("Note privée").fill(SECRET)
    shot(page, "03-mentee-meeting")
    form.get_by_role("button", name="Enregistrer la rencontre").click()
    page.get_by_text("Rencontre enregistrée.").wait_for()
    rencontre = Rencontre.objects.get(mentorat=mentorat)
    assert rencontre.debut == debut and rencontre.duree == 75
    assert rencontre.statut == Session.Statut.REALISEE
    assert page.locator("#compteur-rencontres").text_content().strip() == "1 rencontre(s) tenue(s)"
    row = page.locator(f"#rencontre-{rencontre.pk}")
    assert row.get_by_text("Café du Palais-Royal").is_visible()
    assert row.locator("p", has_text=SECRET).is_visible()
    assert row.get_by_label("Ma note privée").input_value() == SECRET  # to edit it
    assert page.locator("#statut-mentorat").text_content().strip() == "En cours"
    assert NotePrivee.objects.get().auteur == mentee.user
    shot(page, "04-mentee-detail")
    sign_out(page)

    # 4. The mentor sees the meeting, not the mentee's note.
    page.goto(f"/espace/mentorat/{mentorat.pk}/")
    sign_in(page, mentor_user.email)
    page.wait_for_url(url)
    assert page.locator("#compteur-rencontres").text_content().strip() == "1 rencontre(s) tenue(s)"
    row = page.locator(f"#rencontre-{rencontre.pk}")
    assert row.get_by_text("Café du Palais-Royal").is_visible()
    assert row.get_by_label("Ma note privée").input_value() == ""
    assert page.get_by_text(SECRET).count() == 0
    assert SECRET not in page.content()
    shot(page, "05-mentor-detail")
