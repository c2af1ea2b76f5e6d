"""The schemes of a cohort: its mentoring campaign (the engine on the cohort only) and
its co-development groups (composed, moved by hand, confirmed)."""

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone

from codev.models import Groupe, Membre
from cohortes import services
from cohortes.models import Cohorte
from mentorat import services as mentorat_services
from mentorat.models import Campagne, Mentorat, Mentore
from tests.factories import CadreFactory, MentoratFactory, MentoreFactory, UserFactory

from .helpers import make_cohort, start_weeks_ago

pytestmark = pytest.mark.django_db


# --- Mentoring campaign ------------------------------------------------------------------


def test_the_campaign_proposes_mentors_to_the_cohort_members_only(cw):
    cohort_cadres = cw["cadres"][:6]
    outsider = MentoreFactory(cadre=cw["cadre_a"])  # waiting in A, not in the cohort
    cohorte = make_cohort(cw, cohort_cadres)
    campagne = services.launch_campaign(cohorte, by=cw["delegue_a"])

    cohorte.refresh_from_db()
    assert cohorte.campagne == campagne and cohorte.statut == Cohorte.Statut.EN_COURS
    assert campagne.statut == Campagne.Statut.CALCULEE  # computed, nothing sent
    assert list(campagne.structures.all()) == [cw["a"]]
    assert set(campagne.reservee_a.all()) == set(cohort_cadres)
    assert campagne.duree_mois == 6 and campagne.creee_par == cw["delegue_a"]
    proposed = set(campagne.propositions.values_list("mentore__cadre", flat=True))
    assert proposed == {c.pk for c in cohort_cadres}
    assert campagne.nb_mentores == 6
    # Members are on the waiting list as a development cycle; the outsider waits on.
    assert set(
        Mentore.objects.filter(cadre__in=cohort_cadres).values_list("contexte", flat=True)
    ) == {Mentore.Contexte.CYCLE}
    assert not Mentorat.objects.exists()

    mentorat_services.confirm(campagne, by=cw["delegue_a"])
    relations = Mentorat.objects.filter(campagne=campagne)
    assert set(relations.values_list("mentore", flat=True)) == {c.pk for c in cohort_cadres}
    outsider.refresh_from_db()
    assert outsider.statut == Mentore.Statut.EN_ATTENTE


def test_a_member_already_in_a_relation_keeps_it(cw):
    busy = cw["cadres"][0]
    MentoreFactory(cadre=busy, statut=Mentore.Statut.ACCOMPAGNE)
    MentoratFactory(mentore=busy, statut="en_cours")
    cohorte = make_cohort(cw, cw["cadres"][:5])
    campagne = services.launch_campaign(cohorte)
    proposed = set(campagne.propositions.values_list("mentore__cadre", flat=True))
    assert busy.pk not in proposed and len(proposed) == 4
    assert Mentore.objects.get(cadre=busy).statut == Mentore.Statut.ACCOMPAGNE


def test_a_campaign_is_launched_once(cw):
    cohorte = make_cohort(cw, cw["cadres"][:3])
    services.launch_campaign(cohorte)
    with pytest.raises(ValidationError) as error:
        services.launch_campaign(cohorte)
    assert "déjà lancée" in error.value.messages[0]
    assert Campagne.objects.count() == 1


def test_a_campaign_without_cohort_still_takes_every_waiting_mentee(cw):
    MentoreFactory(cadre=cw["cadre_a"])
    make_cohort(cw, cw["cadres"][:3])
    campagne = Campagne.objects.create(nom="Campagne ordinaire")
    campagne.structures.set([cw["a"]])
    mentorat_services.compute(campagne)
    assert campagne.propositions.filter(mentore__cadre=cw["cadre_a"]).exists()


def test_relations_last_as_long_as_the_programme_within_6_to_12_months(cw):
    cohorte = make_cohort(cw, cw["cadres"][:2], months=4)
    assert services.campaign_months(cohorte) == 6
    cohorte.date_fin = cohorte.date_debut + relativedelta(months=10)
    assert services.campaign_months(cohorte) == 10


# --- Co-development groups -----------------------------------------------------------


def groups_of(cohorte):
    cohorte.refresh_from_db()
    return cohorte.composition["groups"]


def test_composition_respects_the_size_and_the_line_manager(cw):
    cohorte = make_cohort(cw)
    composition = services.propose_groups(cohorte)
    groups = composition["groups"]
    assert sorted(len(g) for g in groups) == [6, 6]
    assert sorted(pk for g in groups for pk in g) == sorted(c.pk for c in cw["cadres"])
    manager, report = cw["cadres"][0].pk, cw["cadres"][1].pk
    assert not any(manager in g and report in g for g in groups)
    assert len(composition["explanations"]) == 2
    assert groups_of(cohorte) == groups  # stored: a reload shows the same


def test_a_move_breaking_a_rule_is_refused_and_changes_nothing(cw):
    cohorte = make_cohort(cw)
    groups = services.propose_groups(cohorte)["groups"]
    manager, report = cw["cadres"][0].pk, cw["cadres"][1].pk
    target = next(i for i, g in enumerate(groups) if manager in g)
    with pytest.raises(ValidationError) as error:
        services.move_member(cohorte, report, target)
    text = " ".join(error.value.messages)
    assert "Déplacement refusé" in text
    assert "responsable hiérarchique" in text
    assert groups_of(cohorte) == groups


def test_a_valid_move_is_stored_and_explained_again(cw):
    cohorte = make_cohort(cw)
    groups = services.propose_groups(cohorte)["groups"]
    manager, report = cw["cadres"][0].pk, cw["cadres"][1].pk
    person = next(pk for pk in groups[0] if pk not in (manager, report))
    services.move_member(cohorte, person, 1)
    moved = groups_of(cohorte)
    assert person in moved[1] and person not in moved[0]
    assert sorted(len(g) for g in moved) == [5, 7]
    assert len(cohorte.composition["explanations"]) == 2


def test_a_group_of_nine_is_refused(cw):
    extra = [CadreFactory(structure=cw["a_dir2"], matricule=f"EXT{i}") for i in range(2)]
    cohorte = make_cohort(cw, cw["cadres"] + extra)
    groups = services.propose_groups(cohorte)["groups"]
    assert sorted(len(g) for g in groups) == [7, 7]
    manager, report = cw["cadres"][0].pk, cw["cadres"][1].pk
    movable = [pk for pk in groups[1] if pk not in (manager, report)]
    services.move_member(cohorte, movable[0], 0)  # 8 and 6
    with pytest.raises(ValidationError) as error:
        services.move_member(cohorte, movable[1], 0)  # 9 and 5
    assert "Le groupe 1 compte 9 membres, plus que le maximum de 8." in error.value.messages
    assert sorted(len(g) for g in groups_of(cohorte)) == [6, 8]


def test_confirmation_creates_the_groups_and_their_members(cw):
    cohorte = make_cohort(cw)
    groups = services.propose_groups(cohorte)["groups"]
    start = timezone.localdate() + relativedelta(weeks=2)
    created = services.confirm_groups(
        cohorte,
        animateurs=[cw["animateur"], cw["animateur"]],
        date_debut=start,
        date_fin=start + relativedelta(months=6),
        rythme_semaines=4,
    )
    assert len(created) == 2 == Groupe.objects.count()
    assert set(cohorte.groupes.all()) == set(created)
    for groupe, group in zip(created, groups, strict=True):
        assert groupe.structure == cw["a"] and groupe.animateur == cw["animateur"]
        assert groupe.rythme_semaines == 4 and groupe.date_debut == start
        assert set(groupe.membres.values_list("cadre", flat=True)) == set(group)
        assert groupe.membres.count() <= 8
    assert Membre.objects.count() == 12
    assert created[0].nom == "Cycle des futurs directeurs 2026 – groupe 1"
    # Once created, the composition is closed.
    with pytest.raises(ValidationError):
        services.propose_groups(cohorte)
    with pytest.raises(ValidationError):
        services.confirm_groups(
            cohorte,
            animateurs=[cw["animateur"]] * 2,
            date_debut=start,
            date_fin=start + relativedelta(months=6),
        )
    assert Groupe.objects.count() == 2


def test_confirmation_needs_an_animateur_per_group(cw):
    cohorte = make_cohort(cw)
    services.propose_groups(cohorte)
    start = timezone.localdate()
    params = {"date_debut": start, "date_fin": start + relativedelta(months=6)}
    with pytest.raises(ValidationError) as error:
        services.confirm_groups(cohorte, animateurs=[cw["animateur"]], **params)
    assert "un animateur pour chaque groupe" in error.value.messages[0]
    with pytest.raises(ValidationError) as error:
        services.confirm_groups(cohorte, animateurs=[cw["animateur"], UserFactory()], **params)
    assert "n'ont pas le rôle d'animateur" in error.value.messages[0]
    assert not Groupe.objects.exists()


def test_confirmation_without_composition_is_refused(cw):
    cohorte = make_cohort(cw)
    start = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        services.confirm_groups(
            cohorte,
            animateurs=[],
            date_debut=start,
            date_fin=start + relativedelta(months=6),
        )
    assert "Calculez d'abord une composition." in error.value.messages


def test_cohorts_past_their_end_are_closed_by_the_beat_task(cw):
    from cohortes.models import Cohorte
    from cohortes.tasks import close_finished

    over = make_cohort(cw, start=start_weeks_ago(30), months=6, nom="Cycle 2025")
    running = make_cohort(cw, nom="Cycle 2026")
    assert close_finished.delay().get() == 1
    over.refresh_from_db()
    running.refresh_from_db()
    assert over.statut == Cohorte.Statut.TERMINEE
    assert running.statut == Cohorte.Statut.EN_PREPARATION
    assert close_finished.delay().get() == 0  # done once


def test_a_members_cohort_is_in_their_personal_data_export(cw):
    from rgpd.services import export_data

    make_cohort(cw, nom="Cycle des futurs directeurs 2026")
    exported = export_data(cw["cadres"][0])["programmes_de_cohorte"]
    assert [p["programme"] for p in exported] == ["Cycle des futurs directeurs 2026"]
    assert exported[0]["statut"] == "En préparation"
