"""A cohort programme in a real browser (issue 12's browser test): a délégué creates a
cohort from a vivier, runs its mentoring campaign and confirms it, composes its
co-development group and confirms it, then opens one member's file, which shows the
mentoring relation and the group."""

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev.models import Groupe
from cohortes.models import Cohorte
from mentorat.models import Mentorat
from tests.browser import sign_in
from tests.factories import (
    CadreFactory,
    MentorFactory,
    StructureFactory,
    UserFactory,
    VivierFactory,
    totp_code,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_delegue_runs_a_cohort_programme_end_to_end(page, two_ministries):
    m = two_ministries
    delegue = m["delegue_a"]
    vivier = VivierFactory(nom="Vivier des futurs directeurs")
    directions = [
        StructureFactory(nom=f"Direction {i}", sigle=f"D{i}", parent=m["a"], type="direction")
        for i in range(3)
    ]
    members = []
    for i in range(6):
        cadre = CadreFactory(structure=directions[i % 3], nom=f"Membre{i}", prenom="Claire")
        cadre.viviers.add(vivier)
        members.append(cadre)
    for i in range(3):
        MentorFactory(nom=f"Mentor{i}", prenom="Paul", capacite=2)
    animateur = UserFactory(first_name="Anne", last_name="Animatrice")
    grant_role(animateur, Role.Kind.ANIMATEUR)

    # Sign in (password, then TOTP).
    page.goto("/compte/login/")
    sign_in(page, delegue.email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(delegue))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/admin/**")

    # Create the cohort from the vivier.
    start = timezone.localdate()
    page.goto(reverse("admin:cohortes_cohorte_add"))
    page.fill("#id_nom", "Cycle des futurs directeurs")
    page.select_option("#id_structure", str(m["a"].pk))
    page.fill("#id_date_debut", start.isoformat())
    page.fill("#id_date_fin", (start + relativedelta(months=6)).isoformat())
    page.check("input[name=origine][value=vivier]")
    page.select_option("#id_vivier", str(vivier.pk))
    page.get_by_role("button", name="Créer la cohorte").click()
    page.wait_for_selector("#cohorte-membres")
    cohorte = Cohorte.objects.get()
    assert page.locator("#cohorte-membres tbody tr").count() == 6
    assert "est créée avec 6 membre(s)" in page.locator(".messagelist").inner_text()

    # Its mentoring campaign: launched, computed, reviewed, confirmed.
    page.locator("#lancer-campagne").click()
    page.wait_for_selector("#propositions")
    assert page.locator("#propositions tbody tr").count() == 6
    page.get_by_role("button", name="Confirmer et envoyer les propositions").click()
    page.wait_for_selector("#mentorats-crees")
    assert Mentorat.objects.filter(mentore__in=members).count() == 6

    # Its co-development group: composed, an animateur chosen, confirmed.
    page.goto(reverse("admin:cohortes_cohorte_change", args=[cohorte.pk]))
    page.locator("#lien-groupes").click()
    page.locator("#calculer-composition").click()
    page.wait_for_selector("#groupe-1")
    assert page.locator("#groupe-1 li").count() == 6
    page.select_option("#id_animateur_1", str(animateur.pk))
    page.get_by_role("button", name="Confirmer et créer les groupes").click()
    page.wait_for_selector("#cohorte-membres")
    groupe = Groupe.objects.get()
    assert groupe.membres.count() == 6 and groupe.animateur == animateur
    row = page.locator(f"#membre-{members[0].pk}")
    relation = Mentorat.objects.get(mentore=members[0])
    assert groupe.nom in row.inner_text() and str(relation.mentor) in row.inner_text()

    # One member's file shows the mentoring relation and the group.
    page.goto(reverse("admin:cadres_cadre_dossier", args=[members[0].pk]))
    body = page.locator("#content").inner_text()
    assert str(relation.mentor) in body
    assert groupe.nom in body
