"""The matching engine alone (``mentorat.matching``): pure unit tests, no database.

Hard rules on random instances (Hypothesis), the vectorised scores against the
scalar criteria, optimality against brute force and an expanded assignment problem, the
pricing rounds of large campaigns, the weights, and the unmatched reasons.
"""

import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.graph.python import linear_sum_assignment

from mentorat import matching
from mentorat.matching import MenteeProfile, MentorProfile

CODES = {"accompagnement", "expertise", "experience", "souhait", "meme_ville"}
DOMAINS = ["numérique", "management", "finances", "juridique", "international", "rh"]
# Spellings of the same city on purpose: the engine compares them normalised.
CITIES = ["Paris", " paris ", "Lyon", "Saint  Denis", "saint denis", ""]

# Sized for the whole file to run in well under 30 s (drawing a small instance field
# by field costs Hypothesis some 20 ms; the engine itself about 2 ms).
FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- Strategies ---------------------------------------------------------------------


@st.composite
def structure_tree(draw):
    """Lineages of a small random forest of structures (ids are arbitrary ints)."""
    size = draw(st.integers(1, 8))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    lineages = []
    for k, sid in enumerate(ids):
        parent = draw(st.one_of(st.none(), st.integers(0, k - 1))) if k else None
        lineages.append((sid,) if parent is None else (*lineages[parent], sid))
    return lineages


def subsets(items):
    """Subsets of ``items`` as one bit mask: a single draw, shrinking to the empty set."""
    items = list(items)
    return st.integers(0, 2 ** len(items) - 1).map(
        lambda mask: frozenset(x for k, x in enumerate(items) if mask >> k & 1)
    )


weights_strategy = st.fixed_dictionaries(
    {
        # At least 1: a compatible pair is always worth matching.
        "accompagnement": st.integers(1, 200),
        "expertise": st.integers(0, 30),
        "experience": st.integers(0, 5),
        "experience_max": st.integers(0, 15),
        "souhait": st.integers(0, 40),
        "meme_ville": st.integers(0, 20),
    }
)


@st.composite
def instances(draw, max_mentees=8, max_mentors=5, min_mentors=0):
    """(mentees, mentors, weights): anything from no mentor at all to every pair
    forbidden, with wishes, exclusions, pairs tried and line conflicts, some on keys of
    mentors outside the campaign."""
    lineages = draw(structure_tree())
    lineage = st.sampled_from([(), *lineages])
    domains = subsets(DOMAINS)
    n_mentors = draw(st.integers(min_mentors, max_mentors))
    mentors = [
        MentorProfile(
            key=j,
            label=f"Mentor {j}",
            domaines=draw(domains),
            experience=draw(st.integers(0, 35)),
            ville=draw(st.sampled_from(CITIES)),
            lineage=draw(lineage),
            capacity=draw(st.integers(1, 5)),
        )
        for j in range(n_mentors)
    ]
    # Mentor keys, plus two that are not in the campaign: wishes any subset, the hard
    # rules one key or none each (a mask would forbid most pairs).
    wishes = subsets(range(n_mentors + 2))
    key = st.integers(0, n_mentors + 2).map(lambda k: frozenset({k - 1}) if k else frozenset())
    n_mentees = draw(st.integers(0, max_mentees))
    mentees = [
        MenteeProfile(
            key=f"e{i}",
            label=f"Mentoré {i}",
            domaines=draw(domains),
            experience=draw(st.integers(0, 15)),
            ville=draw(st.sampled_from(CITIES)),
            presentiel=draw(st.booleans()),
            lineage=draw(lineage),
            souhaites=draw(wishes),
            exclus=draw(key),
            deja_essayes=draw(key),
            ligne=draw(key),
        )
        for i in range(n_mentees)
    ]
    weights = draw(st.one_of(st.none(), weights_strategy))
    return mentees, mentors, weights


def random_instance(seed, n_mentees, n_mentors, conflicts=0.3, weights=None):
    """A random instance built by ``random.Random(seed)``: the medium instances, far
    cheaper to draw than field by field (Hypothesis then shrinks the seed and sizes)."""
    rng = random.Random(seed)
    lineages = [(1,), (1, 2), (1, 2, 3), (1, 4), (5,), (5, 6), (5, 6, 7), (8,), (8, 9)]
    mentors = [
        MentorProfile(
            key=j,
            domaines=frozenset(rng.sample(DOMAINS, rng.randint(0, 3))),
            experience=rng.randint(5, 30),
            ville=rng.choice(CITIES),
            lineage=rng.choice([(), *lineages]),
            capacity=rng.randint(1, 5),
        )
        for j in range(n_mentors)
    ]

    def some(most):
        k = sum(rng.random() < conflicts for _ in range(most))
        return frozenset(rng.sample(range(n_mentors + 2), min(k, n_mentors + 2)))

    mentees = [
        MenteeProfile(
            key=i,
            domaines=frozenset(rng.sample(DOMAINS, rng.randint(0, 3))),
            experience=rng.randint(0, 12),
            ville=rng.choice(CITIES),
            presentiel=rng.random() < 0.4,
            lineage=rng.choice([(), *lineages]),
            souhaites=some(2),
            exclus=some(2),
            deja_essayes=some(1),
            ligne=some(2),
        )
        for i in range(n_mentees)
    ]
    return mentees, mentors


@st.composite
def seeded_instances(draw, max_mentees=30, max_mentors=12, min_mentors=0):
    """Medium instances: sizes, conflict density and weights drawn, the rest seeded."""
    mentees, mentors = random_instance(
        draw(st.integers(0, 2**32 - 1)),
        draw(st.integers(0, max_mentees)),
        draw(st.integers(min_mentors, max_mentors)),
        conflicts=draw(st.sampled_from([0.0, 0.3, 0.6, 1.0])),
    )
    return mentees, mentors, draw(st.one_of(st.none(), weights_strategy))


# Small instances drawn field by field (they shrink well) or medium seeded ones.
any_instance = st.one_of(instances(), seeded_instances())


# --- Helpers ------------------------------------------------------------------------


def assert_valid(result, mentees, mentors, weights=None):
    """The hard rules and the explanation, on any result (optimal or greedy)."""
    capacity = {m.key: m.capacity for m in mentors}
    load = Counter(p.mentor.key for p in result.proposals)
    assert all(load[key] <= capacity[key] for key in load), "capacité dépassée"

    proposed = [p.mentee.key for p in result.proposals]
    left = [u.mentee.key for u in result.unmatched]
    assert len(proposed) == len(set(proposed)), "un mentoré proposé deux fois"
    assert sorted(map(str, proposed + left)) == sorted(str(m.key) for m in mentees)

    for p in result.proposals:
        # Line, structure branch, excluded, already tried: all in forbidden_reason.
        assert matching.forbidden_reason(p.mentee, p.mentor) is None
        assert p.mentor.key not in p.mentee.exclus | p.mentee.deja_essayes | p.mentee.ligne
        # The explanation: every criterion, named, summing to the score.
        assert [c.code for c in p.criteria] == [
            "accompagnement",
            "expertise",
            "experience",
            "souhait",
            "meme_ville",
        ]
        assert all(c.libelle for c in p.criteria)
        assert p.score == sum(c.points for c in p.criteria)
        assert p.score == matching.pair_score(p.mentee, p.mentor, weights)
    for u in result.unmatched:
        assert isinstance(u.reason, str) and u.reason.strip()


def brute_force(mentees, mentors, weights=None):
    """Best total over every feasible assignment (each mentee: a compatible mentor
    with a place left, or none), from the scalar ``pair_score``."""
    scores = [[matching.pair_score(e, m, weights) for m in mentors] for e in mentees]
    best_row = [max((s for s in row if s is not None), default=0) for row in scores]
    bound = np.cumsum(best_row[::-1])[::-1].tolist() + [0]
    left = [m.capacity for m in mentors]
    best = 0

    def explore(i, total):
        nonlocal best
        if total + bound[i] <= best:
            return
        if i == len(mentees):
            best = total
            return
        for j, score in enumerate(scores[i]):
            if score is not None and left[j]:
                left[j] -= 1
                explore(i + 1, total + score)
                left[j] += 1
        explore(i + 1, total)

    explore(0, 0)
    return best


def matching_total(scores, matching_dict):
    return int(sum(scores[i, j] for i, j in matching_dict.items()))


def assert_valid_assignment(scores, capacity, matching_dict):
    load = Counter(matching_dict.values())
    assert all(load[j] <= capacity[j] for j in load)
    assert all(scores[i, j] >= 0 for i, j in matching_dict.items())


# --- Hard rules ---------------------------------------------------------------------


@FAST
@given(any_instance)
def test_solve_never_breaks_a_hard_rule(instance):
    mentees, mentors, weights = instance
    result = matching.solve(mentees, mentors, weights)
    assert_valid(result, mentees, mentors, weights)


@settings(FAST, max_examples=60)
@given(any_instance)
def test_greedy_never_breaks_a_hard_rule(instance):
    mentees, mentors, weights = instance
    assert_valid(matching.greedy(mentees, mentors, weights), mentees, mentors, weights)


@settings(FAST, max_examples=80)
@given(any_instance)
def test_unmatched_reason_is_the_true_one(instance):
    """No mentor / no compatible mentor / every compatible mentor full: and for the
    last one, they really are full (a compatible pair is always worth > 0)."""
    mentees, mentors, weights = instance
    result = matching.solve(mentees, mentors, weights)
    load = Counter(p.mentor.key for p in result.proposals)
    for u in result.unmatched:
        compatible = [m for m in mentors if matching.forbidden_reason(u.mentee, m) is None]
        if not mentors:
            assert u.reason.startswith("Aucun mentor disponible")
        elif not compatible:
            assert u.reason.startswith(f"Aucun des {len(mentors)} mentor(s)")
        else:
            assert u.reason.startswith(f"Les {len(compatible)} mentor(s) possible(s)")
            assert all(load[m.key] == m.capacity for m in compatible)


def test_forbidden_reasons_one_by_one():
    mentor = MentorProfile(key=7, lineage=(1, 2))
    free = MenteeProfile(key="a", lineage=(1, 3))  # sibling direction: allowed
    assert matching.forbidden_reason(free, mentor) is None
    cases = {
        "écarté": MenteeProfile(key="a", exclus=frozenset({7})),
        "déjà proposé": MenteeProfile(key="a", deja_essayes=frozenset({7})),
        "ligne hiérarchique": MenteeProfile(key="a", ligne=frozenset({7})),
        "même branche": MenteeProfile(key="a", lineage=(1, 2)),  # same structure
    }
    for words, mentee in cases.items():
        assert words in matching.forbidden_reason(mentee, mentor)
    # The mentor above the mentee's structure, or below it.
    below = MenteeProfile(key="a", lineage=(1, 2, 9))
    above = MenteeProfile(key="a", lineage=(1,))
    assert matching.forbidden_reason(below, mentor)
    assert matching.forbidden_reason(above, mentor)
    # No structure on either side: the structure rule cannot apply.
    assert matching.forbidden_reason(MenteeProfile(key="a"), mentor) is None
    assert matching.forbidden_reason(below, MentorProfile(key=7)) is None


def test_structure_rule_in_the_matrix_covers_the_whole_branch():
    mentor = MentorProfile(key=0, lineage=(1, 2))
    mentees = [
        MenteeProfile(key="same", lineage=(1, 2)),
        MenteeProfile(key="below", lineage=(1, 2, 3)),
        MenteeProfile(key="far below", lineage=(1, 2, 3, 4)),
        MenteeProfile(key="above", lineage=(1,)),
        MenteeProfile(key="sibling", lineage=(1, 5)),
        MenteeProfile(key="cousin", lineage=(1, 5, 6)),
        MenteeProfile(key="other", lineage=(8,)),
        MenteeProfile(key="none"),
    ]
    scores = matching.score_matrix(mentees, [mentor])[:, 0]
    assert (scores < 0).tolist() == [True, True, True, True, False, False, False, False]


# --- Scores and explanation ---------------------------------------------------------


@FAST
@given(any_instance)
def test_score_matrix_is_the_sum_of_the_criteria(instance):
    mentees, mentors, weights = instance
    scores = matching.score_matrix(mentees, mentors, weights)
    assert scores.shape == (len(mentees), len(mentors))
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            expected = matching.pair_score(mentee, mentor, weights)
            assert scores[i, j] == (-1 if expected is None else expected)
            if expected is not None:
                items = matching.criteria(mentee, mentor, weights)
                assert {c.code for c in items} == CODES
                assert expected == sum(c.points for c in items)


def test_each_proposal_carries_its_explanation():
    mentee = MenteeProfile(
        key="a",
        domaines=frozenset({"numérique", "finances", "rh"}),
        experience=4,
        ville="Lyon",
        presentiel=True,
        souhaites=frozenset({1}),
    )
    mentor = MentorProfile(
        key=1, domaines=frozenset({"finances", "numérique"}), experience=30, ville=" lyon "
    )
    (proposal,) = matching.solve([mentee], [mentor]).proposals
    by_code = {c.code: c.as_dict() for c in proposal.criteria}
    assert set(by_code) == CODES
    assert by_code["accompagnement"]["points"] == 100
    assert by_code["expertise"]["points"] == 20
    assert by_code["expertise"]["detail"] == "finances, numérique"
    assert by_code["experience"]["points"] == 10  # 26 years of gap, capped at 10
    assert "30 an(s) contre 4" in by_code["experience"]["detail"]
    assert by_code["souhait"] == {
        "code": "souhait",
        "libelle": "Souhait du mentoré",
        "points": 15,
        "detail": "mentor demandé",
    }
    assert by_code["meme_ville"]["points"] == 5
    assert proposal.score == 150


# --- Optimality ---------------------------------------------------------------------


@settings(FAST, max_examples=150)
@given(instances(max_mentees=6, max_mentors=4))
def test_solve_is_optimal_against_brute_force(instance):
    mentees, mentors, weights = instance
    optimal = matching.solve(mentees, mentors, weights)
    assert optimal.total_score == brute_force(mentees, mentors, weights)
    assert optimal.total_score >= matching.greedy(mentees, mentors, weights).total_score


def _expanded_optimum(scores, capacity):
    """Independent oracle: a perfect assignment on expanded capacities, solved by
    OR-Tools' linear sum assignment (not the min-cost flow ``assign`` uses).

    Left: the n mentees, then one stand-in per place; right: the places (one per unit
    of capacity), then one "nobody" per mentee. A mentee takes a compatible place or
    its own "nobody"; a stand-in fills its place or any "nobody" left over."""
    n = scores.shape[0]
    places = np.repeat(np.arange(scores.shape[1]), capacity)
    p = len(places)
    if not n or not p:
        return 0
    tails, heads, costs = [], [], []

    def arcs(left, right, cost):
        tails.append(np.broadcast_to(left, np.broadcast(left, right).shape).ravel())
        heads.append(np.broadcast_to(right, np.broadcast(left, right).shape).ravel())
        costs.append(np.broadcast_to(cost, tails[-1].shape).ravel())

    i, k = np.nonzero(scores[:, places] >= 0)
    arcs(i, k, -scores[i, places[k]].astype(np.int64))
    arcs(np.arange(n), p + np.arange(n), 0)
    arcs(n + np.arange(p), np.arange(p), 0)
    arcs(n + np.arange(p)[:, None], p + np.arange(n)[None, :], 0)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    solver.add_arcs_with_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(costs).astype(np.int64),
    )
    assert solver.solve() == solver.OPTIMAL
    return -solver.optimal_cost()


@settings(FAST, max_examples=60)
@given(seeded_instances())
def test_solve_is_optimal_against_a_linear_sum_assignment(instance):
    mentees, mentors, weights = instance
    scores = matching.score_matrix(mentees, mentors, weights)
    capacity = [m.capacity for m in mentors]
    result = matching.solve(mentees, mentors, weights)
    assert result.total_score == _expanded_optimum(scores, capacity)


def test_greedy_is_strictly_worse_on_a_crossing():
    """A takes X first under greedy (its best pair), leaving B with nobody; the optimum
    gives A its second choice Y and X to B."""
    x = MentorProfile(key="X", domaines=frozenset({"numérique", "finances", "rh"}))
    y = MentorProfile(key="Y", domaines=frozenset({"numérique", "finances"}))
    a = MenteeProfile(key="A", domaines=frozenset({"numérique", "finances", "rh"}))
    b = MenteeProfile(
        key="B", domaines=frozenset({"numérique", "finances"}), exclus=frozenset({"Y"})
    )
    mentees, mentors = [a, b], [x, y]
    assert matching.pair_score(a, x) == 130
    assert matching.pair_score(a, y) == matching.pair_score(b, x) == 120

    optimal = matching.solve(mentees, mentors)
    baseline = matching.greedy(mentees, mentors)
    assert {(p.mentee.key, p.mentor.key) for p in optimal.proposals} == {("A", "Y"), ("B", "X")}
    assert optimal.total_score == 240 == brute_force(mentees, mentors)
    assert baseline.total_score == 130
    assert [u.mentee.key for u in baseline.unmatched] == ["B"]


def test_greedy_is_strictly_worse_on_scores_alone():
    """Everybody matched either way, but greedy takes the best pair (A-X) and loses on
    the total: A-X + B-Y = 130 + 103 = 233, the optimum A-Y + B-X = 125 + 118 = 243."""
    x = MentorProfile(key="X", domaines=frozenset({"numérique", "finances", "rh"}), experience=10)
    y = MentorProfile(key="Y", domaines=frozenset({"numérique", "finances"}), experience=5)
    a = MenteeProfile(key="A", domaines=frozenset({"numérique", "finances"}), experience=0)
    b = MenteeProfile(key="B", domaines=frozenset({"rh"}), experience=2)
    mentees, mentors = [a, b], [x, y]
    scores = matching.score_matrix(mentees, mentors)
    assert scores.tolist() == [[130, 125], [118, 103]]

    optimal = matching.solve(mentees, mentors)
    baseline = matching.greedy(mentees, mentors)
    assert {(p.mentee.key, p.mentor.key) for p in optimal.proposals} == {("A", "Y"), ("B", "X")}
    assert {(p.mentee.key, p.mentor.key) for p in baseline.proposals} == {("A", "X"), ("B", "Y")}
    assert optimal.total_score == 243 == brute_force(mentees, mentors)
    assert baseline.total_score == 233


def test_full_network_and_greedy_on_a_seeded_medium_instance():
    mentees, mentors = random_instance(3, 80, 25)
    optimal = matching.solve(mentees, mentors)
    baseline = matching.greedy(mentees, mentors)
    assert_valid(optimal, mentees, mentors)
    scores = matching.score_matrix(mentees, mentors)
    assert optimal.total_score == _expanded_optimum(scores, [m.capacity for m in mentors])
    assert optimal.total_score >= baseline.total_score


# --- Large campaigns: candidate pairs, dual prices, pricing rounds ------------------


def _priced(scores, capacity, per_mentee=1, per_mentor=1, priced=1):
    """``assign`` forced on the large-campaign path, with the number of flows solved."""
    rounds = []
    flow = matching._min_cost_flow

    def counting(*args):
        rounds.append(len(args[0]))
        return flow(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matching, "FULL_PAIRS", 0)
        mp.setattr(matching, "PRICED_PER_MENTEE", priced)
        mp.setattr(matching, "_min_cost_flow", counting)
        result = matching.assign(scores, capacity, per_mentee=per_mentee, per_mentor=per_mentor)
    return result, rounds


@settings(FAST, max_examples=100)
@given(
    seeded_instances(min_mentors=1),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_pricing_rounds_reach_the_full_optimum(instance, per_mentee, per_mentor, priced):
    mentees, mentors, weights = instance
    scores = matching.score_matrix(mentees, mentors, weights)
    capacity = [m.capacity for m in mentors]
    full = matching.assign(scores, capacity)
    priced_result, _ = _priced(scores, capacity, per_mentee, per_mentor, priced)
    assert_valid_assignment(scores, capacity, priced_result)
    assert matching_total(scores, priced_result) == matching_total(scores, full)


def test_pricing_rounds_on_a_seeded_medium_instance():
    mentees, mentors = random_instance(7, 200, 60)
    scores = matching.score_matrix(mentees, mentors)
    capacity = [m.capacity for m in mentors]
    full = matching.assign(scores, capacity)
    priced, rounds = _priced(scores, capacity)
    # The first network misses pairs the optimum needs: pricing adds them, round by round.
    assert len(rounds) > 1
    assert rounds == sorted(rounds) and rounds[-1] < scores.size
    assert_valid_assignment(scores, capacity, priced)
    assert matching_total(scores, priced) == matching_total(scores, full)
    assert matching_total(scores, full) == _expanded_optimum(scores, capacity)


def test_solve_on_the_large_path(monkeypatch):
    """``solve`` itself with the candidate pairs of a national campaign (8 per mentee,
    20 per mentor): the same optimal total as with every pair."""
    mentees, mentors = random_instance(11, 120, 40)
    expected = matching.solve(mentees, mentors).total_score
    monkeypatch.setattr(matching, "FULL_PAIRS", 0)
    result = matching.solve(mentees, mentors)
    assert_valid(result, mentees, mentors)
    assert result.total_score == expected


def test_duals_certify_the_optimum():
    """The dual prices of the final network are feasible on every pair, zero on free
    places, tight on the pairs used, and their value equals the total score."""
    mentees, mentors = random_instance(0, 40, 20)  # all matched, 8 mentors with room
    # More mentees than places who may only have mentor 0: some of them stay unmatched.
    others = frozenset(range(1, 20))
    mentees += [
        MenteeProfile(key=f"x{k}", domaines=frozenset({"rh"}), exclus=others)
        for k in range(mentors[0].capacity + 2)
    ]
    scores = matching.score_matrix(mentees, mentors)
    capacity = np.array([m.capacity for m in mentors])
    flat = np.flatnonzero(scores.ravel() >= 0)
    rows, cols = np.divmod(flat, scores.shape[1])
    weights = scores.ravel()[flat].astype(np.int64)
    n, m = scores.shape
    used = matching._min_cost_flow(rows, cols, weights, n, m, capacity)
    u, v = matching._duals(rows, cols, weights, used, n, m, capacity)
    assert (u >= 0).all() and (v >= 0).all()
    assert (u[rows] + v[cols] >= weights).all()
    assert (u[rows[used]] + v[cols[used]] == weights[used]).all()
    assert u.sum() + (capacity * v).sum() == weights[used].sum()
    matched = np.zeros(n, dtype=bool)
    matched[rows[used]] = True
    room = np.bincount(cols[used], minlength=m) < capacity
    assert (u[~matched] == 0).all() and (v[room] == 0).all()
    assert (~matched).any() and room.any()  # both cases occur on this instance


# --- Weights ------------------------------------------------------------------------


def test_custom_weights_change_the_score_as_expected():
    mentee = MenteeProfile(
        key="a",
        domaines=frozenset({"numérique", "finances", "rh"}),
        experience=3,
        ville="Paris",
        presentiel=True,
        souhaites=frozenset({1}),
    )
    mentor = MentorProfile(
        key=1, domaines=frozenset({"numérique", "finances"}), experience=8, ville="paris"
    )
    weights = {
        "accompagnement": 1000,
        "expertise": 3,
        "experience": 2,
        "experience_max": 4,
        "souhait": 7,
        "meme_ville": 11,
    }
    points = {c.code: c.points for c in matching.criteria(mentee, mentor, weights)}
    # 2 domains × 3, min(5, 4) years × 2, the wish, the city.
    assert points == {
        "accompagnement": 1000,
        "expertise": 6,
        "experience": 8,
        "souhait": 7,
        "meme_ville": 11,
    }
    assert matching.pair_score(mentee, mentor, weights) == 1032
    assert matching.score_matrix([mentee], [mentor], weights)[0, 0] == 1032
    assert matching.solve([mentee], [mentor], weights).total_score == 1032
    # A partial dict overrides only what it names.
    assert matching.pair_score(mentee, mentor, {"expertise": 0}) == 100 + 0 + 5 + 15 + 5
    assert matching.pair_score(mentee, mentor) == 100 + 20 + 5 + 15 + 5


def test_experience_gap_is_capped_and_never_negative():
    mentee = MenteeProfile(key="a", experience=12)
    younger = MentorProfile(key=1, experience=8)
    much_older = MentorProfile(key=2, experience=40)
    assert matching.pair_score(mentee, younger) == 100
    assert matching.pair_score(mentee, much_older) == 110
    scores = matching.score_matrix([mentee], [younger, much_older])
    assert scores.tolist() == [[100, 110]]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_wished_mentor_wins_over_an_equal_one(order):
    twins = [
        MentorProfile(key=k, domaines=frozenset({"rh"}), experience=20, ville="Paris")
        for k in ("wished", "other")
    ]
    mentors = [twins[k] for k in order]
    mentee = MenteeProfile(key="a", domaines=frozenset({"rh"}), souhaites=frozenset({"wished"}))
    (proposal,) = matching.solve([mentee], mentors).proposals
    assert proposal.mentor.key == "wished"
    assert {c.code: c.points for c in proposal.criteria}["souhait"] == 15


def test_same_city_counts_only_for_in_person():
    mentors = [
        MentorProfile(key="far", ville="Lyon"),
        MentorProfile(key="near", ville="  RENNES "),
    ]
    remote = MenteeProfile(key="r", ville="Rennes", presentiel=False)
    in_person = MenteeProfile(key="p", ville="Rennes", presentiel=True)
    assert [matching.pair_score(remote, m) for m in mentors] == [100, 100]
    assert [matching.pair_score(in_person, m) for m in mentors] == [100, 105]
    assert matching.score_matrix([remote, in_person], mentors).tolist() == [
        [100, 100],
        [100, 105],
    ]
    near = {c.code: c for c in matching.criteria(in_person, mentors[1])}["meme_ville"]
    assert near.points == 5 and near.detail == "  RENNES "
    (proposal,) = matching.solve([in_person], mentors).proposals
    assert proposal.mentor.key == "near"
    # No city on the mentee's side: nothing to compare.
    nowhere = MenteeProfile(key="n", ville="", presentiel=True)
    assert matching.pair_score(nowhere, MentorProfile(key="x", ville="")) == 100


def test_a_blank_city_is_never_the_same_city():
    mentee = MenteeProfile(key="a", ville="  ", presentiel=True)
    mentor = MentorProfile(key=1, ville="")
    assert matching.pair_score(mentee, mentor) == 100
    assert matching.score_matrix([mentee], [mentor])[0, 0] == 100


# --- Unmatched mentees --------------------------------------------------------------


def test_three_distinct_unmatched_reasons():
    lonely = MenteeProfile(key="a")
    (no_mentor,) = matching.solve([lonely], []).unmatched

    refused = MenteeProfile(key="b", exclus=frozenset({1}), ligne=frozenset({2}))
    mentors = [MentorProfile(key=1), MentorProfile(key=2)]
    (no_compatible,) = matching.solve([refused], mentors).unmatched

    first = MenteeProfile(key="c", domaines=frozenset({"rh"}))
    second = MenteeProfile(key="d")
    full = matching.solve([first, second], [MentorProfile(key=1, domaines=frozenset({"rh"}))])
    (all_full,) = full.unmatched

    assert no_mentor.mentee.key == "a"
    assert no_mentor.reason.startswith("Aucun mentor disponible dans le périmètre")
    assert no_compatible.mentee.key == "b"
    assert no_compatible.reason.startswith("Aucun des 2 mentor(s) disponible(s)")
    assert all_full.mentee.key == "d"
    assert all_full.reason.startswith("Les 1 mentor(s) possible(s) sont complets")
    reasons = {no_mentor.reason, no_compatible.reason, all_full.reason}
    assert len(reasons) == 3 and all(r.strip() for r in reasons)


def test_degenerate_campaigns():
    assert matching.solve([], []).proposals == []
    assert matching.solve([], [MentorProfile(key=1)]).total_score == 0
    assert matching.assign(np.zeros((0, 3), dtype=np.int32), [1, 1, 1]) == {}
    assert matching.assign(np.full((2, 2), -1, dtype=np.int32), [1, 1]) == {}
    # More places than mentees: everyone is matched.
    mentees = [MenteeProfile(key=i) for i in range(4)]
    result = matching.solve(mentees, [MentorProfile(key="m", capacity=5)])
    assert len(result.proposals) == 4 and not result.unmatched
    assert result.total_score == 400
