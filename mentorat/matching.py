"""The matching engine: an optimal many-to-one assignment of mentees to mentors.

Pure Python + NumPy and OR-Tools, no database: ``services`` builds the profiles, the
benchmark and the tests call ``solve`` directly.

The problem is a transportation problem: mentee *i* takes at most one mentor, mentor
*j* at most ``capacity_j`` mentees, a compatible pair (*i*, *j*) is worth
``score(i, j)``; maximise the total. It is solved exactly as a min-cost flow
(OR-Tools' network solver, C++), never greedily.

At the scale of the State (10,000 mentees × 3,000 mentors) the network would have 30
million arcs. It is solved on each side's best candidates first; then the dual
prices of the places (u for a mentee, v for a mentor) are computed from that optimum,
and every pair whose score beats u + v is added and the flow solved again. When no
pair does, the prices are a feasible dual of the full problem with the same value:
linear-programming duality proves the assignment optimal over all pairs.

The score of a pair is a transparent sum of named criteria (``criteria()``); the
weight "mentoré accompagné" is larger than all the others together, so that nobody
is left without a mentor for the sake of a better-scoring pair.
"""

from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

DEFAULT_WEIGHTS = {
    # Points for matching a mentee at all: more than every other criterion together.
    "accompagnement": 100,
    # Per domain of expertise the mentee needs and the mentor offers.
    "expertise": 10,
    # Shared domains counted, at most (keeps "accompagnement" above the rest).
    "expertise_max": 3,
    # Per year of experience the mentor has beyond the mentee's, up to ``experience_max``.
    "experience": 1,
    "experience_max": 10,
    # The mentee asked for this mentor.
    "souhait": 15,
    # Same city, for a mentee who wants to meet in person.
    "meme_ville": 5,
}

# A large campaign starts from each mentee's best mentors and each mentor's best
# mentees; pricing adds whatever else the optimum needs.
CANDIDATES_PER_MENTEE = 8
CANDIDATES_PER_MENTOR = 20
# Pairs a pricing round adds, at most, per mentee.
PRICED_PER_MENTEE = 8
# Below this many pairs every compatible pair goes in at once.
FULL_PAIRS = 300_000


@dataclass(frozen=True)
class MenteeProfile:
    key: object
    label: str = ""
    domaines: frozenset = frozenset()
    experience: int = 0  # years in senior management
    ville: str = ""
    presentiel: bool = False  # wants to meet in person
    lineage: tuple = ()  # structure ids from the root down to their own structure
    souhaites: frozenset = frozenset()  # mentor keys asked for
    exclus: frozenset = frozenset()  # mentor keys refused
    deja_essayes: frozenset = frozenset()  # mentor keys of an earlier relation or proposal
    ligne: frozenset = frozenset()  # mentor keys in their hierarchical line (managers)


@dataclass(frozen=True)
class MentorProfile:
    key: object
    label: str = ""
    domaines: frozenset = frozenset()
    experience: int = 0
    ville: str = ""
    lineage: tuple = ()
    capacity: int = 1  # free places for this campaign


@dataclass(frozen=True)
class Criterion:
    code: str
    libelle: str
    points: int
    detail: str = ""

    def as_dict(self):
        return {
            "code": self.code,
            "libelle": self.libelle,
            "points": self.points,
            "detail": self.detail,
        }


@dataclass
class Proposal:
    mentee: MenteeProfile
    mentor: MentorProfile
    score: int
    criteria: list


@dataclass
class Unmatched:
    mentee: MenteeProfile
    reason: str


@dataclass
class Result:
    proposals: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)

    @property
    def total_score(self):
        return sum(p.score for p in self.proposals)


def _city(value):
    return " ".join(value.split()).casefold()


def forbidden_reason(mentee, mentor):
    """Why this pair may never be proposed, or None. The hard rules, one by one."""
    if mentor.key in mentee.exclus:
        return "mentor écarté par le mentoré"
    if mentor.key in mentee.deja_essayes:
        return "binôme déjà proposé ou déjà formé"
    if mentor.key in mentee.ligne:
        return "mentor dans la ligne hiérarchique du mentoré"
    if (
        mentor.lineage
        and mentee.lineage
        and (mentor.lineage[-1] in mentee.lineage or mentee.lineage[-1] in mentor.lineage)
    ):
        return "même structure ou structure de la même branche"
    return None


def criteria(mentee, mentor, weights=None):
    """The named criteria of a compatible pair, whose points sum to its score."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    shared = sorted(mentee.domaines & mentor.domaines)
    gap = min(max(mentor.experience - mentee.experience, 0), w["experience_max"])
    items = [Criterion("accompagnement", "Mentoré accompagné", w["accompagnement"])]
    items.append(
        Criterion(
            "expertise",
            "Expertise demandée et offerte",
            w["expertise"] * min(len(shared), w["expertise_max"]),
            ", ".join(str(d) for d in shared) if shared else "aucun domaine en commun",
        )
    )
    items.append(
        Criterion(
            "experience",
            "Écart d'expérience",
            w["experience"] * gap,
            f"{mentor.experience} an(s) contre {mentee.experience} (plafond {w['experience_max']})",
        )
    )
    wished = mentor.key in mentee.souhaites
    items.append(
        Criterion(
            "souhait",
            "Souhait du mentoré",
            w["souhait"] if wished else 0,
            "mentor demandé" if wished else "",
        )
    )
    city = _city(mentee.ville)
    same_city = mentee.presentiel and city and city == _city(mentor.ville)
    items.append(
        Criterion(
            "meme_ville",
            "Même ville, rencontres en présentiel",
            w["meme_ville"] if same_city else 0,
            mentor.ville if same_city else "",
        )
    )
    return items


def pair_score(mentee, mentor, weights=None):
    """Score of a pair, or None when a hard rule forbids it."""
    if forbidden_reason(mentee, mentor):
        return None
    return sum(c.points for c in criteria(mentee, mentor, weights))


# --- Vectorised scores ------------------------------------------------------------


def score_matrix(mentees, mentors, weights=None):
    """Scores of every pair (mentees × mentors) as int32, -1 where forbidden.

    The same arithmetic as ``criteria()``, on arrays (checked by the tests)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    n, m = len(mentees), len(mentors)
    mentor_index = {mentor.key: j for j, mentor in enumerate(mentors)}

    domains = sorted({d for p in (*mentees, *mentors) for d in p.domaines}, key=str)
    d_index = {d: k for k, d in enumerate(domains)}
    needs = np.zeros((n, len(domains)), dtype=np.float32)
    offers = np.zeros((m, len(domains)), dtype=np.float32)
    for i, p in enumerate(mentees):
        needs[i, [d_index[d] for d in p.domaines]] = 1
    for j, p in enumerate(mentors):
        offers[j, [d_index[d] for d in p.domaines]] = 1
    # Built in place, in int32: these are the big arrays of a national campaign.
    scores = np.rint(needs @ offers.T).astype(np.int32)
    np.minimum(scores, w["expertise_max"], out=scores)
    scores *= w["expertise"]
    scores += w["accompagnement"]

    exp_e = np.array([p.experience for p in mentees], dtype=np.int32)
    exp_m = np.array([p.experience for p in mentors], dtype=np.int32)
    gap = exp_m[None, :] - exp_e[:, None]
    np.maximum(gap, 0, out=gap)
    np.minimum(gap, w["experience_max"], out=gap)
    gap *= w["experience"]
    scores += gap
    del gap

    cities = {}
    city_e = np.array(
        [
            cities.setdefault(_city(p.ville), len(cities))
            if p.presentiel and _city(p.ville)
            else -1
            for p in mentees
        ],
        dtype=np.int32,
    )
    city_m = np.array([cities.get(_city(p.ville), -2) for p in mentors], dtype=np.int32)
    scores += (city_e[:, None] == city_m[None, :]).astype(np.int32) * w["meme_ville"]
    for i, p in enumerate(mentees):
        for key in p.souhaites:
            if key in mentor_index:
                scores[i, mentor_index[key]] += w["souhait"]

    # Hard rules. Structures: the mentor's structure in the mentee's lineage (the
    # same or a parent), or the mentee's in the mentor's (a child).
    depth = max((len(p.lineage) for p in (*mentees, *mentors)), default=0)
    lin_e = np.full((n, depth), -1, dtype=np.int32)
    lin_m = np.full((m, depth), -2, dtype=np.int32)
    for i, p in enumerate(mentees):
        lin_e[i, : len(p.lineage)] = p.lineage
    for j, p in enumerate(mentors):
        lin_m[j, : len(p.lineage)] = p.lineage
    own_e = np.array([p.lineage[-1] if p.lineage else -3 for p in mentees], dtype=np.int32)
    own_m = np.array([p.lineage[-1] if p.lineage else -4 for p in mentors], dtype=np.int32)
    forbidden = np.zeros((n, m), dtype=bool)
    for level in range(depth):
        forbidden |= lin_e[:, level][:, None] == own_m[None, :]
        forbidden |= own_e[:, None] == lin_m[:, level][None, :]
    for i, p in enumerate(mentees):
        for key in p.exclus | p.deja_essayes | p.ligne:
            if key in mentor_index:
                forbidden[i, mentor_index[key]] = True
    scores[forbidden] = -1
    return scores


# --- Solving ------------------------------------------------------------------------


def _min_cost_flow(rows, cols, weights, n, m, capacity):
    """Optimal assignment on the given pairs: which pairs are used (bool array).

    Network: source → mentee (1 place) → mentor (cost -score) → sink (capacity);
    a source → sink arc lets mentees stay unmatched."""
    k = len(rows)
    source, sink = n + m, n + m + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(n, source), rows, n + np.arange(m), [source]]).astype(np.int32),
        np.concatenate([np.arange(n), n + cols, np.full(m, sink), [sink]]).astype(np.int32),
        np.concatenate([np.ones(n + k, dtype=np.int64), capacity, [n]]).astype(np.int64),
        np.concatenate([np.zeros(n), -weights, np.zeros(m + 1)]).astype(np.int64),
    )
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:  # pragma: no cover - always feasible (nobody matched)
        raise RuntimeError(f"Le calcul d'appariement a échoué (statut {status}).")
    return flow.flows(np.arange(n, n + k, dtype=np.int32)).astype(bool)


def _duals(rows, cols, weights, used, n, m, capacity):
    """Optimal dual prices of the places: u (mentees), v (mentors), with
    u_i + v_j ≥ score on every pair given, u = 0 for an unmatched mentee, v = 0 for a
    mentor with room, equality on the pairs used (complementary slackness).

    They are the shortest distances of a system of difference constraints (w = -v,
    node z = 0), computed by Bellman-Ford relaxations on arrays: no negative cycle
    exists because the assignment is optimal."""
    z = n + m
    unmatched = np.ones(n, dtype=bool)
    unmatched[rows[used]] = False
    room = np.bincount(cols[used], minlength=m) < capacity
    # Constraint x_head ≤ x_tail + weight, one per arc.
    tails = np.concatenate(
        [
            rows,
            n + cols[used],
            np.arange(n),
            np.full(unmatched.sum(), z),
            np.full(m, z),
            n + np.flatnonzero(room),
        ]
    )
    heads = np.concatenate(
        [
            n + cols,
            rows[used],
            np.full(n, z),
            np.flatnonzero(unmatched),
            n + np.arange(m),
            np.full(room.sum(), z),
        ]
    )
    arc_weights = np.concatenate(
        [-weights, weights[used], np.zeros(n + unmatched.sum() + m + room.sum())]
    ).astype(np.int64)
    order = np.argsort(heads, kind="stable")
    tails, heads, arc_weights = tails[order], heads[order], arc_weights[order]
    targets, starts = np.unique(heads, return_index=True)
    distance = np.zeros(n + m + 1, dtype=np.int64)
    for _ in range(n + m + 2):
        best = np.minimum.reduceat(distance[tails] + arc_weights, starts)
        relaxed = distance.copy()
        relaxed[targets] = np.minimum(distance[targets], best)
        if np.array_equal(relaxed, distance):
            return distance[:n] - distance[z], distance[z] - distance[n : n + m]
        distance = relaxed
    raise RuntimeError("Cycle négatif : affectation non optimale.")  # pragma: no cover


def _initial_pairs(scores, per_mentee, per_mentor):
    """Every compatible pair for a small campaign; else each mentee's best mentors
    and each mentor's best mentees (as flat indices into ``scores``)."""
    n, m = scores.shape
    if n * m <= FULL_PAIRS:
        return np.flatnonzero(scores.ravel() >= 0)
    masked = np.where(scores >= 0, scores, -1)
    k, k2 = min(per_mentee, m), min(per_mentor, n)
    best_mentors = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    best_mentees = np.argpartition(-masked.T, k2 - 1, axis=1)[:, :k2]
    flat = np.concatenate(
        [
            np.repeat(np.arange(n), k) * m + best_mentors.ravel(),
            best_mentees.ravel() * m + np.repeat(np.arange(m), k2),
        ]
    )
    flat = flat[scores.ravel()[flat] >= 0]
    seen = np.zeros(n * m, dtype=bool)
    seen[flat] = True
    return np.flatnonzero(seen)


def _violations(scores, u, v, per_mentee, chunk=2048):
    """For each mentee, up to ``per_mentee`` pairs whose score beats the price of both
    places, the most profitable first (flat indices)."""
    n, m = scores.shape
    k = min(per_mentee, m)
    found = []
    for start in range(0, n, chunk):
        gain = scores[start : start + chunk] - u[start : start + chunk, None] - v[None, :]
        rows = np.flatnonzero((gain > 0).any(axis=1))
        if not len(rows):
            continue
        gain = gain[rows]
        best = np.argpartition(-gain, k - 1, axis=1)[:, :k]
        keep = np.take_along_axis(gain, best, axis=1) > 0
        found.append((np.repeat(rows, k)[keep.ravel()] + start) * m + best.ravel()[keep.ravel()])
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def assign(scores, capacity, per_mentee=CANDIDATES_PER_MENTEE, per_mentor=CANDIDATES_PER_MENTOR):
    """The optimal assignment for a score matrix (-1 = forbidden), as a dict
    {mentee index: mentor index}. Exact: see the module docstring."""
    n, m = scores.shape
    capacity = np.asarray(capacity, dtype=np.int64)
    if n == 0 or m == 0 or not np.any(scores >= 0):
        return {}
    included = np.zeros(n * m, dtype=bool)
    flat = _initial_pairs(scores, per_mentee, per_mentor)
    included[flat] = True
    while True:
        rows, cols = np.divmod(flat, m)
        weights = scores.ravel()[flat].astype(np.int64)
        used = _min_cost_flow(rows, cols, weights, n, m, capacity)
        u, v = _duals(rows, cols, weights, used, n, m, capacity)
        fresh = _violations(
            scores, u.astype(scores.dtype), v.astype(scores.dtype), PRICED_PER_MENTEE
        )
        fresh = fresh[~included[fresh]]
        if not len(fresh):
            # Dual feasible on every pair with the primal's value: optimal.
            return dict(zip(rows[used].tolist(), cols[used].tolist(), strict=True))
        included[fresh] = True
        flat = np.concatenate([flat, fresh])


def _unmatched_reason(compatible, m):
    if m == 0:
        return (
            "Aucun mentor disponible dans le périmètre (actif, disponible à cette date, "
            "avec une place libre)."
        )
    if compatible == 0:
        return (
            f"Aucun des {m} mentor(s) disponible(s) n'est possible : même ligne hiérarchique "
            "ou même branche de structures, mentor écarté par le mentoré ou binôme déjà essayé."
        )
    return (
        f"Les {compatible} mentor(s) possible(s) sont complets : leurs places vont à des "
        "binômes de meilleur score total."
    )


def _result(mentees, mentors, scores, matching, weights):
    result = Result()
    compatible = (scores >= 0).sum(axis=1) if len(mentors) else np.zeros(len(mentees), int)
    for i, mentee in enumerate(mentees):
        j = matching.get(i)
        if j is None:
            result.unmatched.append(
                Unmatched(mentee, _unmatched_reason(int(compatible[i]), len(mentors)))
            )
            continue
        mentor = mentors[j]
        items = criteria(mentee, mentor, weights)
        result.proposals.append(Proposal(mentee, mentor, sum(c.points for c in items), items))
    return result


def solve(mentees, mentors, weights=None):
    """Optimal proposals for a campaign, each with its criteria; the others unmatched
    with the reason."""
    mentees, mentors = list(mentees), list(mentors)
    scores = score_matrix(mentees, mentors, weights)
    capacity = [mentor.capacity for mentor in mentors]
    return _result(mentees, mentors, scores, assign(scores, capacity), weights)


def greedy(mentees, mentors, weights=None):
    """The baseline the benchmark compares with: best pairs first, while places last."""
    mentees, mentors = list(mentees), list(mentors)
    scores = score_matrix(mentees, mentors, weights)
    left = np.array([mentor.capacity for mentor in mentors], dtype=np.int64)
    m = scores.shape[1]
    flat = np.flatnonzero(scores.ravel() >= 0)
    order = flat[np.argsort(-scores.ravel()[flat], kind="stable")]
    matching, places = {}, int(left.sum())
    for e in order.tolist():
        i, j = divmod(e, m)
        if i not in matching and left[j] > 0:
            matching[i] = j
            left[j] -= 1
            places -= 1
            if not places or len(matching) == len(mentees):
                break
    return _result(mentees, mentors, scores, matching, weights)
