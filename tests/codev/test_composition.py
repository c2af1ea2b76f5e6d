"""Composing co-development groups (``codev.composition``): the hard rules on random
cohorts (Hypothesis), optimality against brute force on small ones, "when avoidable"
on constructed cases, the naive round-robin beaten, the checks after hand moves, the
explanations, and the loader from the database (constant queries)."""

import time
from collections import Counter
from math import comb

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadres.models import Cadre
from codev.composition import (
    MEME_DIRECTION,
    Composition,
    Person,
    compose,
    evaluate,
    explain,
    group_count,
    people_for,
    round_robin,
    violations,
)
from tests.factories import CadreFactory, StructureFactory

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def person(pk, direction, responsable=None, fonction=""):
    label = "" if direction is None else f"Direction {direction}"
    return Person(pk, f"Cadre {pk}", direction, label, fonction, responsable)


@st.composite
def cohorts(draw, max_n=40):
    """Cadres 1..N, directions among a few (some unknown), functions among a few (some
    empty), line managers forming a forest (each manager drawn among earlier cadres)."""
    n = draw(st.integers(1, max_n))
    n_directions = draw(st.integers(1, 6))
    people = []
    for pk in range(1, n + 1):
        direction = draw(st.one_of(st.none(), st.integers(1, n_directions)))
        fonction = draw(st.sampled_from(["", "Sous-directrice", "Chef de service", "Préfet"]))
        manager = draw(st.one_of(st.none(), st.integers(1, pk - 1))) if pk > 1 else None
        people.append(person(pk, direction, manager, fonction))
    return people


def manager_pairs(groups, people):
    """Written apart from the module: (report, manager) pairs sharing a group."""
    where = {pk: g for g, group in enumerate(groups) for pk in group}
    return [
        (p.id, p.responsable_id)
        for p in people
        if p.responsable_id is not None and where.get(p.id) == where.get(p.responsable_id)
    ]


def same_direction_pairs(groups, people):
    by_id = {p.id: p for p in people}
    return sum(
        comb(count, 2)
        for group in groups
        for count in Counter(
            by_id[i].direction for i in group if by_id[i].direction is not None
        ).values()
    )


# --- Hard rules on random cohorts -----------------------------------------------------


@FAST
@given(cohorts())
def test_hard_rules_hold_on_random_cohorts(people):
    result = compose(people)
    n = len(people)
    placed = [pk for group in result.groups for pk in group]
    assert sorted(placed) == [p.id for p in people]  # everyone exactly once
    assert all(1 <= len(group) <= 8 for group in result.groups)
    assert manager_pairs(result.groups, people) == []
    assert violations(result.groups, people) == []
    k = group_count(n)
    if not any(p.responsable_id for p in people):
        # No line-manager link: the usual count of groups, at least 5 members (or all
        # the cohort when smaller; 5 and 4 for 9 cadres, the documented exception).
        assert len(result.groups) == k
        assert min(len(g) for g in result.groups) >= min(5, n // k)
    assert result.cost == evaluate(result.groups, people)[0]
    assert sum(result.breakdown.values()) == result.cost
    assert len(result.explanations) == len(result.groups)
    # Never worse than the naive deal whenever the deal is valid.
    naive = round_robin(people, k)
    if violations(naive, people) == []:
        assert result.cost <= evaluate(naive, people)[0]
    # Deterministic.
    again = compose(people)
    assert (again.groups, again.cost) == (result.groups, result.cost)


def partitions(items):
    """Every set partition of ``items`` (Bell(9) = 21,147 for 9 items)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]


@settings(max_examples=25, deadline=None, database=None)
@given(cohorts(max_n=9))
def test_optimal_against_brute_force_on_small_cohorts(people):
    """Among all valid partitions (groups of at most 8, nobody with their manager): the
    largest smallest group (up to the usual minimum), then the fewest groups, then the
    lowest cost. The sizes bend only as far as the manager rule requires."""
    n = len(people)
    usual = min(5, n // group_count(n))

    def key(groups):
        return (-min(min(map(len, groups)), usual), len(groups), evaluate(groups, people)[0])

    valid = (
        g
        for g in partitions([p.id for p in people])
        if max(map(len, g)) <= 8 and not manager_pairs(g, people)
    )
    best = min(map(key, valid))
    assert key(compose(people).groups) == best


# --- "When avoidable" and the naive baseline -------------------------------------------


def test_no_same_direction_pair_when_avoidable_and_round_robin_beaten():
    # 16 cadres, 8 directions of 2, in an order that the round-robin deals badly:
    # A1 B1 A2 B2 C1 D1 C2 D2... puts both of each direction in the same group.
    people = []
    for d in range(1, 9, 2):
        people += [person(len(people) + 1, d), person(len(people) + 2, d + 1)]
        people += [person(len(people) + 1, d), person(len(people) + 2, d + 1)]
    naive = round_robin(people, 2)
    assert same_direction_pairs(naive, people) == 8
    result = compose(people)
    assert [len(g) for g in result.groups] == [8, 8]
    assert same_direction_pairs(result.groups, people) == 0
    assert result.breakdown["meme_direction"] == 0
    assert result.cost < evaluate(naive, people)[0]
    assert all("8 directions différentes" in text for text in result.explanations)


def test_same_direction_pairs_at_the_theoretical_minimum_when_unavoidable():
    # 12 cadres, 2 groups of 6: 5 of direction 1, 4 of direction 2, 3 of direction 3.
    # Best split by hand: 3+2 (3 + 1 pairs), 2+2 (1 + 1), 2+1 (1): 7 pairs, and
    # g1 = {1,1,1,2,2,3}, g2 = {1,1,2,2,3,3} reaches all three at once.
    # A manager link inside direction 1 does not change it (they are split anyway).
    people = [person(1, 1), person(2, 1, responsable=1)] + [person(pk, 1) for pk in (3, 4, 5)]
    people += [person(pk, 2) for pk in range(6, 10)] + [person(pk, 3) for pk in (10, 11, 12)]
    result = compose(people)
    assert same_direction_pairs(result.groups, people) == 7
    assert result.breakdown["meme_direction"] == 7 * MEME_DIRECTION
    assert manager_pairs(result.groups, people) == []
    text = " ".join(result.explanations)
    assert "inévitable, la cohorte en compte 5 pour 2 groupes" in text


def test_functions_are_spread_once_directions_are():
    # 10 cadres of 10 directions: only the functions decide, over 2 groups of 5.
    # In turn, the naive deal puts the 4 préfets together, and the 4 chefs de service.
    fonctions = ["Préfet", "Chef de service"] * 4 + ["Sous-directrice"] * 2
    people = [person(pk, pk, fonction=f) for pk, f in enumerate(fonctions, 1)]
    result = compose(people)
    assert result.breakdown["meme_direction"] == 0
    # Préfet 2/2 (2 pairs), chef 2/2 (2 pairs), sous-directrice 1/1 (0): 4 pairs.
    assert result.breakdown["meme_fonction"] == 4 * 10
    assert evaluate(round_robin(people, 2), people)[1]["meme_fonction"] == 12 * 10


# --- Sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "groups", "sizes"),
    [(0, 0, []), (3, 1, [3]), (8, 1, [8]), (9, 2, [5, 4]), (16, 2, [8, 8]), (17, 3, [6, 6, 5])],
)
def test_group_count_and_sizes(n, groups, sizes):
    people = [person(pk, pk % 3) for pk in range(1, n + 1)]
    assert group_count(n) == groups
    assert sorted(map(len, compose(people).groups), reverse=True) == sizes


def test_nine_cadres_explain_the_group_of_four():
    people = [person(pk, pk) for pk in range(1, 10)]
    result = compose(people)
    small = [
        text for text, g in zip(result.explanations, result.groups, strict=True) if len(g) == 4
    ]
    assert small and "inévitable, 9 cadres ne se répartissent pas en groupes de 5 à 8" in small[0]


def test_the_manager_rule_wins_over_the_minimum_size():
    # 6 cadres, one of them the manager of another: one group is impossible, so two
    # groups of 3 — and that is no breach, since no grouping does better.
    people = [person(1, 1), person(2, 2, responsable=1)] + [person(pk, pk) for pk in (3, 4, 5, 6)]
    result = compose(people)
    assert sorted(map(len, result.groups)) == [3, 3]
    assert violations(result.groups, people) == []
    assert "les liens hiérarchiques de la cohorte l'imposent" in result.explanations[0]
    # A 4 + 2 split by hand is avoidable: the group of 2 is reported.
    moved = [[1, 3, 4, 5], [2, 6]]
    assert violations(moved, people) == ["Le groupe 2 compte 2 membres, moins que le minimum de 3."]


def test_a_manager_of_most_of_the_cohort_sits_alone():
    # 20 cadres, 19 reporting to cadre 1: cadre 1 can only be alone.
    people = [person(1, 1)] + [person(pk, pk % 4, responsable=1) for pk in range(2, 21)]
    result = compose(people)
    assert [1] in result.groups
    assert max(map(len, result.groups)) <= 8
    assert violations(result.groups, people) == []


def test_a_chain_forbids_direct_links_only():
    # 3 → 2 → 1: 1-2 and 2-3 are forbidden, 1-3 allowed.
    people = [person(1, 1), person(2, 2, 1), person(3, 3, 2)]
    assert violations([[1, 3], [2]], people) == []
    assert len(violations([[1, 2, 3]], people)) == 2


# --- Checking hand moves ---------------------------------------------------------------


def test_violations_after_hand_moves():
    people = [person(pk, pk % 5) for pk in range(1, 17)]
    people[9] = person(10, 0, responsable=2)
    result = compose(people)
    assert violations(result.groups, people) == []
    groups = [list(g) for g in result.groups]
    mine = next(g for g in groups if 10 in g)
    other = next(g for g in groups if 10 not in g)
    # Cadre 10 moved into their manager's group (cadre 2 is in the other group).
    assert 2 in other
    mine.remove(10)
    other.append(10)
    messages = violations(groups, people)
    assert (
        f"Groupe {groups.index(other) + 1} : Cadre 2 est le responsable hiérarchique de "
        "Cadre 10 ; ils ne peuvent pas être dans le même groupe." in messages
    )
    assert (
        f"Le groupe {groups.index(other) + 1} compte 9 membres, plus que le maximum de 8."
        in messages
    )
    assert f"Le groupe {groups.index(mine) + 1} compte 7 membres" not in " ".join(messages)


def test_violations_missing_twice_unknown_and_too_small():
    people = [person(pk, pk) for pk in range(1, 13)]
    groups = [[1, 2, 3, 4, 5, 6, 7, 8], [8, 9, 10, 99]]
    assert violations(groups, people) == [
        "Le cadre n° 99 ne fait pas partie de la cohorte.",
        "Cadre 8 est dans plusieurs groupes.",
        "Cadre 11 n'est dans aucun groupe.",
        "Cadre 12 n'est dans aucun groupe.",
        "Le groupe 2 compte 4 membres, moins que le minimum de 5.",
    ]
    # 9 cadres: 5 + 4 is the rule, 6 + 3 is not.
    nine = people[:9]
    assert violations([[1, 2, 3, 4, 5], [6, 7, 8, 9]], nine) == []
    assert violations([[1, 2, 3, 4, 5, 6], [7, 8, 9]], nine) == [
        "Le groupe 2 compte 3 membres, moins que le minimum de 4."
    ]
    # Fewer cadres than the minimum: any split is theirs to make; empty groups ignored.
    assert violations([[1, 2], [3], []], people[:3]) == []


def test_explain_reports_a_pair_left_by_hand():
    people = [person(1, 1), person(2, 1, responsable=1), person(3, 2), person(4, 3)]
    text = explain([[1, 2, 3, 4]], people)[0]
    assert text.startswith("Groupe 1 (4 membres) : 3 directions différentes")
    assert "Attention : Cadre 2 est avec son responsable hiérarchique Cadre 1." in text


def test_fallback_when_the_solver_finds_nothing(monkeypatch):
    """Should CP-SAT run out of time before any solution: a round-robin, repaired to
    part managers and reports, and said so."""
    from codev import composition

    monkeypatch.setattr(composition, "_solve", lambda *args, **kwargs: (False, None))
    monkeypatch.setattr(composition, "_separate", lambda *args: None)
    monkeypatch.setattr(composition, "_greedy", lambda *args: None)
    composition._plan.cache_clear()
    # Dealt in turn, cadre 1 and their report cadre 3 would share group 1.
    people = [person(1, 1), person(2, 2), person(3, 3, responsable=1)]
    people += [person(pk, pk) for pk in (4, 5, 6)]
    result = compose(people)
    composition._plan.cache_clear()
    assert manager_pairs(result.groups, people) == []
    assert sorted(pk for g in result.groups for pk in g) == [1, 2, 3, 4, 5, 6]
    assert result.explanations[0].startswith("Le calcul d'optimisation n'a pas abouti")


def test_empty_cohort():
    assert compose([]) == Composition(
        [], [], 0, {"meme_direction": 0, "meme_fonction": 0, "desequilibre": 0}
    )


def test_large_cohort_is_fast():
    people = [
        person(pk, pk % 17, responsable=pk - 7 if pk % 5 == 0 else None, fonction=f"F{pk % 6}")
        for pk in range(1, 121)
    ]
    start = time.monotonic()
    result = compose(people)
    assert time.monotonic() - start < 20
    assert violations(result.groups, people) == []
    assert len(result.groups) == 15
    # 17 directions of 7 or 8 over 15 groups: each can be spread, so zero pairs.
    assert result.breakdown["meme_direction"] == 0


# --- Loading from the database ---------------------------------------------------------


@pytest.fixture
def tree(db):
    ministere = StructureFactory(nom="Ministère", type="ministere")
    direction = StructureFactory(nom="Direction du budget", parent=ministere, type="direction")
    sous_direction = StructureFactory(
        nom="Sous-direction 1", parent=direction, type="sous_direction"
    )
    bureau = StructureFactory(nom="Bureau 1A", parent=sous_direction, type="bureau")
    # A direction inside a direction: the nearest one spreads.
    generale = StructureFactory(nom="Direction générale", parent=ministere, type="direction")
    interne = StructureFactory(nom="Direction interne", parent=generale, type="direction")
    bureau_interne = StructureFactory(nom="Bureau interne", parent=interne, type="bureau")
    service = StructureFactory(nom="Service rattaché", parent=ministere, type="service")
    operateur = StructureFactory(nom="Opérateur", type="operateur")
    return locals()


def test_people_for_resolves_directions(tree):
    chef = CadreFactory(structure=tree["direction"], prenom="Anne", nom="Durand")
    adjoint = CadreFactory(structure=tree["bureau"], responsable=chef, fonction=" Chef de bureau ")
    others = [
        CadreFactory(structure=tree["sous_direction"]),
        CadreFactory(structure=tree["interne"]),
        CadreFactory(structure=tree["service"]),
        CadreFactory(structure=tree["operateur"]),
        CadreFactory(structure=tree["ministere"]),
        CadreFactory(structure=tree["bureau_interne"]),
        CadreFactory(structure=tree["generale"]),
    ]
    cadres = Cadre.objects.filter(pk__in=[chef.pk, adjoint.pk] + [c.pk for c in others])
    people = {p.id: p for p in people_for(cadres.order_by("pk"))}
    assert people[chef.pk].label == "Anne DURAND"
    assert people[chef.pk].responsable_id is None
    assert people[adjoint.pk].responsable_id == chef.pk
    assert people[adjoint.pk].fonction == " Chef de bureau "
    expected = [
        (chef, "direction"),
        (adjoint, "direction"),
        (others[0], "direction"),
        (others[1], "interne"),
        (others[2], "service"),
        (others[3], "operateur"),
        (others[4], "ministere"),
        (others[5], "interne"),
        (others[6], "generale"),
    ]
    for cadre, key in expected:
        assert people[cadre.pk].direction == tree[key].pk
        assert people[cadre.pk].direction_label == tree[key].nom
    # Input order kept, from a list of instances as well.
    listed = people_for([others[2], chef])
    assert [p.id for p in listed] == [others[2].pk, chef.pk]


def test_people_for_constant_queries(tree):
    structures = [tree[k] for k in ("bureau", "interne", "service", "operateur")]
    cadres = [CadreFactory(structure=structures[i % 4]) for i in range(30)]
    counts = []
    for size in (3, 30):
        queryset = Cadre.objects.filter(pk__in=[c.pk for c in cadres[:size]])
        with CaptureQueriesContext(connection) as queries:
            people = people_for(queryset)
        assert len(people) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3


def test_brute_force_helper_enumerates_every_grouping():
    # Bell numbers: the brute force above really sees every partition, once.
    assert [sum(1 for _ in partitions(list(range(n)))) for n in range(1, 7)] == [
        1,
        2,
        5,
        15,
        52,
        203,
    ]
