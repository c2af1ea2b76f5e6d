"""The coaching and immersion rights of a cohort programme: the member is invited on
their portal home to ask for them (the form preset), until they have asked since the
programme started; outside the programme's dates, after its closing or for a non-member
there is no invitation; the follow-up page and its exports say what became of each
right, in the same number of queries whatever the cohort's size."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande
from accompagnement.services import demandes as demande_services
from cohortes import droits
from cohortes.models import Cohorte
from tests.exports import as_dicts, csv_rows
from tests.factories import make_cadre_user

from .helpers import make_cohort

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")
CREATE = reverse("portal:demande_create")


@pytest.fixture
def member(cw):
    """A member of ministry A with an account."""
    cadre = make_cadre_user(structure=cw["a_dir"], matricule="MATU01", nom="Usager")
    return cadre


def cohort_with_rights(cw, members, **extra):
    extra.setdefault("droit_coaching", True)
    extra.setdefault("droit_immersion", True)
    return make_cohort(cw, members, start=extra.pop("start", None), **extra)


def ask(cadre, dispositif, contexte="cycle_developpement"):
    return demande_services.submit(
        cadre, dispositif=dispositif, contexte=contexte, motivation="Pour le cycle", by=cadre.user
    )


def action_links(client):
    return [a.url for a in client.get(HOME).context["actions"]]


def test_the_member_is_invited_to_ask_for_each_right_with_the_form_preset(client, cw, member):
    cohorte = cohort_with_rights(cw, [member])
    client.force_login(member.user)
    response = client.get(HOME)
    text = response.content.decode()
    assert "Demander un coaching : votre programme « Cycle des futurs directeurs 2026 »" in text
    assert "Demander une période d&#x27;immersion : votre programme" in text
    assert f"jusqu&#x27;au {cohorte.date_fin:%d/%m/%Y}" in text
    links = action_links(client)
    coaching = f"{CREATE}?dispositif=coaching&contexte=cycle_developpement"
    assert links == [coaching, f"{CREATE}?dispositif=immersion&contexte=cycle_developpement"]

    form = client.get(coaching).context["form"]
    assert form.initial == {"dispositif": "coaching", "contexte": "cycle_developpement"}
    response = client.post(
        CREATE,
        {"dispositif": "coaching", "contexte": "cycle_developpement", "motivation": "Le cycle"},
    )
    assert response.status_code == 302
    demande = Demande.objects.get(cadre=member)
    assert demande.statut == Demande.Statut.SOUMISE  # the délégué still decides
    # Asked: the coaching invitation is gone, the immersion one stays.
    assert action_links(client) == [f"{CREATE}?dispositif=immersion&contexte=cycle_developpement"]


def test_a_vivier_programme_presets_the_vivier_context(client, cw, member):
    cohorte = cohort_with_rights(cw, [member], droit_immersion=False)
    Cohorte.objects.filter(pk=cohorte.pk).update(origine=Cohorte.Origine.VIVIER)
    client.force_login(member.user)
    assert action_links(client) == [f"{CREATE}?dispositif=coaching&contexte=vivier"]


def test_a_request_made_before_the_programme_does_not_use_the_right(client, cw, member):
    old = ask(member, "coaching")
    Demande.objects.filter(pk=old.pk).update(recue_le=timezone.now() - timedelta(days=30))
    cohort_with_rights(cw, [member], droit_immersion=False)
    client.force_login(member.user)
    assert len(action_links(client)) == 1
    ask(member, "coaching")
    assert action_links(client) == []


def test_a_refused_request_still_counts_as_asked(client, cw, member, django_user_model):
    cohort_with_rights(cw, [member], droit_immersion=False)
    demande = ask(member, "coaching")
    Demande.objects.filter(pk=demande.pk).update(statut=Demande.Statut.REFUSEE)
    client.force_login(member.user)
    assert action_links(client) == []


@pytest.mark.parametrize("when", ["not_started", "ended", "closed"])
def test_no_invitation_outside_the_running_programme(client, cw, member, when):
    today = timezone.localdate()
    start = today + timedelta(days=10) if when == "not_started" else today - timedelta(days=200)
    cohorte = cohort_with_rights(cw, [member], start=start)
    if when == "closed":
        Cohorte.objects.filter(pk=cohorte.pk).update(statut=Cohorte.Statut.TERMINEE)
    client.force_login(member.user)
    assert action_links(client) == []


def test_no_invitation_without_a_right_nor_for_a_non_member(client, cw, member):
    other = make_cadre_user(structure=cw["a_dir"], matricule="MATU02")
    cohort_with_rights(cw, [member], droit_coaching=False, droit_immersion=False)
    cohort_with_rights(cw, [other], nom="Autre cycle")
    client.force_login(member.user)
    assert action_links(client) == []
    client.force_login(cw["delegue_a"])  # staff without a cadre file: no invitation either
    assert action_links(client) == []


def test_one_invitation_per_scheme_when_two_programmes_open_it(client, cw, member):
    cohort_with_rights(cw, [member], nom="Premier", droit_immersion=False, months=3)
    cohort_with_rights(cw, [member], nom="Second", droit_immersion=False, months=6)
    client.force_login(member.user)
    actions = client.get(HOME).context["actions"]
    assert len(actions) == 1 and "« Premier »" in actions[0].titre  # the first to end


def test_the_rights_cost_two_queries_whatever_the_programmes(cw, member, django_assert_num_queries):
    for i in range(3):
        cohort_with_rights(cw, [member], nom=f"Cycle {i}")
    ask(member, "immersion")
    with django_assert_num_queries(2):
        found = droits.unused(member.user)
    assert [d for _, d in found] == ["coaching"]
    with django_assert_num_queries(1):  # no programme: one query
        assert droits.unused(cw["delegue_a"]) == []


def test_a_preset_outside_the_choices_is_ignored(client, member):
    client.force_login(member.user)
    response = client.get(f"{CREATE}?dispositif=<script>&contexte=inconnu")
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


# --- The délégué's follow-up ------------------------------------------------------------


def test_the_follow_up_says_what_became_of_each_right(client, cw, member):
    second = make_cadre_user(structure=cw["a_srv"], matricule="MATU02", nom="Second")
    cohorte = cohort_with_rights(cw, [member, second])
    demande = ask(member, "coaching")
    Demande.objects.filter(pk=demande.pk).update(statut=Demande.Statut.ACCEPTEE)
    client.force_login(cw["delegue_a"])
    response = client.get(reverse("admin:cohortes_cohorte_change", args=[cohorte.pk]))
    text = response.content.decode()
    received = f"{timezone.localdate():%d/%m/%Y}"
    assert f"Droit ouvert, demande acceptée (reçue le {received})" in text
    assert text.count("Droit ouvert, pas encore demandé") == 3  # member's immersion, second's two
    rows = {
        row["Nom"]: row
        for row in as_dicts(
            csv_rows(client.get(reverse("admin:cohortes_cohorte_suivi_csv", args=[cohorte.pk])))
        )
    }
    assert rows["Usager"]["Coaching"] == f"Droit ouvert, demande acceptée (reçue le {received})"
    assert rows["Usager"]["Immersion"] == "Droit ouvert, pas encore demandé"
    assert rows["Second"]["Coaching"] == "Droit ouvert, pas encore demandé"


def test_without_rights_the_follow_up_shows_a_dash(client, cw, member):
    cohorte = cohort_with_rights(cw, [member], droit_coaching=False, droit_immersion=False)
    client.force_login(cw["delegue_a"])
    text = client.get(reverse("admin:cohortes_cohorte_change", args=[cohorte.pk])).content.decode()
    assert "Droit ouvert" not in text
