"""Creating a cohort: from a vivier, a selection or a list, all its members inside the
délégué's perimeter; every refusal is French and creates nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cohortes import services
from cohortes.models import Cohorte, MembreCohorte
from tests.factories import CadreFactory

from .helpers import dates, make_cohort

pytestmark = pytest.mark.django_db


def create(cw, user=None, **kwargs):
    params = {"nom": "Cycle 2026", "structure": cw["a"], **dates(), **kwargs}
    return services.create_cohort(user or cw["delegue_a"], **params)


def members(cohorte):
    return set(cohorte.membres.values_list("cadre_id", flat=True))


def message(error):
    return " ".join(error.value.messages)


def test_from_a_vivier_takes_its_active_cadres_of_the_structure_only(cw):
    gone = cw["cadres"][11]
    gone.actif = False
    gone.save()
    cohorte = create(cw, origine="vivier", vivier=cw["vivier"], droit_coaching=True)
    # The cadre of ministry B in the same vivier and the inactive one stay out.
    assert members(cohorte) == {c.pk for c in cw["cadres"][:11]}
    assert cohorte.origine == "vivier" and cohorte.vivier == cw["vivier"]
    assert cohorte.droit_coaching and not cohorte.droit_immersion
    assert cohorte.creee_par == cw["delegue_a"]


def test_from_a_vivier_in_a_direction_takes_that_subtree(cw):
    cohorte = create(cw, structure=cw["a_dir"], origine="vivier", vivier=cw["vivier"])
    expected = {c.pk for c in cw["cadres"] if c.structure_id in (cw["a_dir"].pk, cw["a_srv"].pk)}
    assert members(cohorte) == expected


def test_from_a_filter_of_structure_and_category(cw):
    contractuel = CadreFactory(structure=cw["a_srv"], categorie="contractuel")
    cohorte = create(cw, origine="filtre", filtre_structure=cw["a_dir"], categorie="A+")
    in_dir = {c.pk for c in cw["cadres"] if c.structure_id in (cw["a_dir"].pk, cw["a_srv"].pk)}
    assert members(cohorte) == in_dir | {cw["cadre_a"].pk}
    assert contractuel.pk not in members(cohorte)
    cohorte = create(cw, origine="filtre", filtre_structure=cw["a_srv"], categorie="contractuel")
    assert members(cohorte) == {contractuel.pk}


def test_from_a_list_of_matricules_and_emails(cw):
    one, two, three = cw["cadres"][:3]
    text = f"{one.matricule}\n{two.email.upper()} ; {three.matricule}, {one.matricule}\n\n"
    cohorte = create(cw, origine="liste", liste=text)
    assert members(cohorte) == {one.pk, two.pk, three.pk}


def test_unknown_identifiers_are_listed_and_nothing_is_created(cw):
    with pytest.raises(ValidationError) as error:
        create(cw, origine="liste", liste="MAT000\nINCONNU1\npersonne@nulle.part")
    assert "Identifiants inconnus ou hors de votre périmètre : INCONNU1, personne@nulle.part" in (
        message(error)
    )
    assert not Cohorte.objects.exists() and not MembreCohorte.objects.exists()


def test_a_cadre_outside_the_perimeter_is_refused_and_nothing_is_created(cw):
    # Cadre of ministry B: refused as unknown, without telling that they exist.
    with pytest.raises(ValidationError) as error:
        create(cw, origine="liste", liste="MAT000\nMATB01")
    assert "hors de votre périmètre : MATB01" in message(error)
    assert "Bravo" not in message(error)
    assert not Cohorte.objects.exists()


def test_a_cadre_outside_the_organising_structure_is_refused(cw):
    outside = cw["cadres"][2]  # in Direction A2
    with pytest.raises(ValidationError) as error:
        create(cw, structure=cw["a_dir"], origine="liste", liste=f"MAT000\n{outside.matricule}")
    assert f"Ces cadres n'appartiennent pas à « {cw['a_dir']} »" in message(error)
    assert str(outside) in message(error)
    assert not Cohorte.objects.exists()


def test_a_structure_outside_the_perimeter_is_refused(cw):
    with pytest.raises(ValidationError) as error:
        create(cw, structure=cw["b"], origine="vivier", vivier=cw["vivier"])
    assert "Cette structure n'est pas dans votre périmètre." in message(error)
    # The délégué of B cannot take A's cadres either.
    with pytest.raises(ValidationError):
        create(cw, user=cw["delegue_b"], structure=cw["b"], origine="liste", liste="MAT000")
    assert not Cohorte.objects.exists()


def test_a_filter_outside_the_organising_structure_is_refused(cw):
    with pytest.raises(ValidationError) as error:
        create(cw, structure=cw["a_dir"], origine="filtre", filtre_structure=cw["a_dir2"])
    assert "structure organisatrice" in message(error)


@pytest.mark.parametrize("months", [2, 13])
def test_a_programme_lasts_3_to_12_months(cw, months):
    with pytest.raises(ValidationError) as error:
        create(cw, origine="vivier", vivier=cw["vivier"], **dates(months=months))
    assert "Un programme de cohorte dure de 3 à 12 mois" in message(error)
    assert not Cohorte.objects.exists()


def test_3_and_12_months_are_accepted(cw):
    assert create(cw, origine="vivier", vivier=cw["vivier"], **dates(months=3))
    assert create(cw, origine="vivier", vivier=cw["vivier"], **dates(months=12))


def test_an_empty_selection_is_refused(cw):
    with pytest.raises(ValidationError) as error:
        create(cw, origine="filtre", filtre_structure=cw["a_srv"], categorie="contractuel")
    assert "Aucun cadre actif" in message(error)


def test_national_administrator_may_use_any_structure(cw):
    cohorte = create(cw, user=cw["admin"], structure=cw["b"], origine="liste", liste="MATB01")
    assert members(cohorte) == {cw["cadre_b"].pk}


def test_helper_builds_the_whole_vivier_of_a(cw):
    cohorte = make_cohort(cw, start=timezone.localdate())
    assert cohorte.membres.count() == 12
