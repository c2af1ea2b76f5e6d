"""Composing co-development groups from a cohort: an optimisation, not a first-fit loop.

Pure Python and OR-Tools CP-SAT, no database except in ``people_for`` (the loader).
The cohort pages propose ``compose(...)``, the délégué or the animateur moves people,
``violations(...)`` says which hard rule the new grouping breaks and ``explain(...)``
describes each group.

Hard rules:

* every cadre in exactly one group;
* groups of ``min_size`` to ``max_size`` members (5 to 8), in ``group_count(N)`` groups;
* never a cadre in the same group as their direct line manager (both ways; in a chain
  A → B → C only A-B and B-C are forbidden).

The sizes bend only when they must, and the explanation says so:

* fewer than ``min_size`` cadres: one group of them all;
* N = 9 (``max_size`` 8, ``min_size`` 5): one group would be too big and two groups
  cannot both reach 5, so the smallest group may have ``N // k`` members (5 and 4);
* the line-manager rule comes first ("jamais"): when a manager and their reports
  cannot be kept apart in groups of at least ``min_size`` (a cohort of 6 with one
  manager and one of their reports, a manager of most of the cohort...), the largest
  minimum size that allows it is used, then the fewest groups (``_plan``).

Objective (lower is better, integers, see the weights below): pairs of members of the
same direction, pairs with the same function, and members beyond the balanced sizes
(``N // k`` or ``N // k + 1``). The same-direction weight exceeds everything else put
together, so two cadres of one direction meet only when no valid grouping avoids it.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import ceil, comb

from ortools.sat.python import cp_model

# Per pair of members of the same direction: the point of the method is to meet peers
# from elsewhere. 10,000 exceeds the largest total of the other penalties of a cohort
# of up to 200 cadres in groups of at most 8 (at most 3.5·N same-function pairs × 10,
# at most 2·N members off balance × 5: 45·N = 9,000), so the order is strict: a
# same-direction pair is accepted only when no valid grouping avoids it.
MEME_DIRECTION = 10_000
# Per pair of members with the same function (a tie-breaker between spreads of
# directions): peers in the same job bring each other fewer new angles.
MEME_FONCTION = 10
# Per member beyond the balanced sizes: groups of 7 and 7 rather than 8 and 6, but a
# same-function pair costs more than one member of imbalance.
DESEQUILIBRE = 5

PARTS = ("meme_direction", "meme_fonction", "desequilibre")

# Each feasibility check of ``_plan`` (rare: only with line-manager links) gets this
# much of CP-SAT's deterministic time.
_CHECK_TIME = 2.0


@dataclass(frozen=True)
class Person:
    id: int  # Cadre pk
    label: str  # "Prénom NOM" for explanations
    direction: int | None  # pk of the structure used for spreading (see people_for)
    direction_label: str
    fonction: str  # free text function ("" if unknown)
    responsable_id: int | None  # Cadre pk of the line manager, if known


@dataclass
class Composition:
    groups: list[list[int]]  # Cadre pks per group
    explanations: list[str]  # one French paragraph per group
    cost: int  # objective value (lower is better)
    breakdown: dict[str, int]  # weighted parts of the cost, summing to it


# --- Arithmetic and shared helpers --------------------------------------------------


def group_count(n, *, max_size=8, min_size=5):
    """Number of groups for ``n`` cadres: the fewest that respect ``max_size``.

    ``min_size`` does not change it: fewer groups would be too big. When the groups
    cannot all reach ``min_size`` (n = 9: 2 groups of 5 and 4), the smallest has
    ``n // k`` members, see the module docstring."""
    if not 1 <= min_size <= max_size:
        raise ValueError("Les tailles de groupe doivent vérifier 1 ≤ minimum ≤ maximum.")
    return ceil(n / max_size) if n > 0 else 0


def _usual_minimum(n, max_size, min_size):
    """The smallest group size allowed before any line-manager link is considered."""
    k = group_count(n, max_size=max_size, min_size=min_size)
    return min(min_size, n // k) if k else 0


def _norm(fonction):
    return " ".join((fonction or "").split()).casefold()


def _manager_edges(people):
    """Pairs (index of the report, index of the manager) inside the cohort."""
    index = {p.id: i for i, p in enumerate(people)}
    return sorted(
        (i, index[p.responsable_id])
        for i, p in enumerate(people)
        if p.responsable_id in index and p.responsable_id != p.id
    )


def round_robin(people, n_groups):
    """The naive baseline: people in input order, dealt in turn to ``n_groups`` groups."""
    groups = [[] for _ in range(n_groups)]
    for i, person in enumerate(people):
        groups[i % n_groups].append(person.id)
    return [g for g in groups if g]


# --- Objective ----------------------------------------------------------------------


def _counts(groups, people):
    """Unweighted parts: same-direction pairs, same-function pairs, members off balance."""
    by_id = {p.id: p for p in people}
    groups = [[i for i in g if i in by_id] for g in groups]
    groups = [g for g in groups if g]
    n, k = sum(len(g) for g in groups), len(groups)
    low, high = (n // k, ceil(n / k)) if k else (0, 0)
    direction_pairs = fonction_pairs = off_balance = 0
    for group in groups:
        members = [by_id[i] for i in group]
        directions = Counter(p.direction for p in members if p.direction is not None)
        fonctions = Counter(_norm(p.fonction) for p in members if _norm(p.fonction))
        direction_pairs += sum(comb(c, 2) for c in directions.values())
        fonction_pairs += sum(comb(c, 2) for c in fonctions.values())
        off_balance += max(0, len(group) - high) + max(0, low - len(group))
    return {
        "meme_direction": direction_pairs,
        "meme_fonction": fonction_pairs,
        "desequilibre": off_balance,
    }


def evaluate(groups, people):
    """The objective of ``compose`` for any grouping: (cost, weighted parts)."""
    counts = _counts(groups, people)
    weights = {
        "meme_direction": MEME_DIRECTION,
        "meme_fonction": MEME_FONCTION,
        "desequilibre": DESEQUILIBRE,
    }
    breakdown = {part: counts[part] * weights[part] for part in PARTS}
    return sum(breakdown.values()), breakdown


# --- CP-SAT -------------------------------------------------------------------------


def _pair_penalty(model, members, x, g, cap):
    """A variable ≥ C(count, 2) of ``members`` in group ``g``: C(n, 2) is convex, so it
    is the maximum of its tangents j·n − j(j+1)/2 (exact at integers); minimised, the
    variable equals it."""
    count = sum(x[i][g] for i in members)
    top = min(len(members), cap)
    pairs = model.new_int_var(0, comb(top, 2), "")
    for j in range(1, top):
        model.add(pairs >= j * count - j * (j + 1) // 2)
    return pairs


def _canonical(assignment):
    """Groups renumbered in order of first appearance (matches the symmetry breaking)."""
    labels = {}
    return [labels.setdefault(g, len(labels)) for g in assignment]


def _solve(problem, k, lo, hi, *, optimise, hint=None, time_limit=10.0):
    """(Whether the model was proved infeasible, group index per person in ``problem``
    order or None if none was found).

    ``problem`` = (directions, fonctions, edges), people indexed in the model's order."""
    directions, fonctions, edges = problem
    n = len(directions)
    model = cp_model.CpModel()
    # Symmetry breaking: groups are numbered by their first member, so person i is in
    # one of the groups 0..i.
    x = [[model.new_bool_var("") for _ in range(min(k, i + 1))] for i in range(n)]
    for row in x:
        model.add_exactly_one(row)
    column = [[row[g] for row in x if g < len(row)] for g in range(k)]
    sizes = [sum(col) for col in column]
    for size in sizes:
        model.add_linear_constraint(size, lo, hi)
    for a, b in edges:
        for g in range(min(len(x[a]), len(x[b]))):
            model.add_at_most_one(x[a][g], x[b][g])
    if optimise:
        terms = []
        for values, weight in ((directions, MEME_DIRECTION), (fonctions, MEME_FONCTION)):
            members = defaultdict(list)
            for i, value in enumerate(values):
                if value not in (None, ""):
                    members[value].append(i)
            for group in (m for m in members.values() if len(m) > 1):
                for g in range(k):
                    present = [i for i in group if g < len(x[i])]
                    if len(present) > 1:
                        terms.append(weight * _pair_penalty(model, present, x, g, hi))
        low, high = n // k, ceil(n / k)
        for size in sizes:
            off = model.new_int_var(0, n, "")
            model.add(off >= size - high)
            model.add(off >= low - size)
            terms.append(DESEQUILIBRE * off)
        model.minimize(sum(terms))
    if hint is not None:
        for i, g in enumerate(_canonical(hint)):
            for h, var in enumerate(x[i]):
                model.add_hint(var, h == g)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    # One worker and a deterministic time budget: the same cohort gives the same
    # groups. Wall-clock time is only a safety net for a loaded machine; half the
    # budget in deterministic time leaves room for building the model.
    solver.parameters.max_deterministic_time = time_limit / 2
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status == cp_model.INFEASIBLE, None
    return False, [next(g for g, var in enumerate(row) if solver.value(var)) for row in x]


@lru_cache(maxsize=256)
def _plan(n, edges, max_size, min_size):
    """(number of groups, minimum size, a valid assignment or None) for ``n`` people
    with the line-manager ``edges`` (index pairs): the largest minimum size up to the
    usual one, then the fewest groups, that keep every cadre apart from their manager.

    Without links the usual sizes always work (balanced groups). Cached: ``violations``
    asks again after every move of the délégué."""
    k0 = group_count(n, max_size=max_size, min_size=min_size)
    lo0 = _usual_minimum(n, max_size, min_size)
    if not edges:
        return k0, lo0, None
    # A cadre's group holds only people who are not their manager or report.
    degree = Counter(i for edge in edges for i in edge)
    cap = min(n - degree[i] for i in range(n))
    empty = ([None] * n, [""] * n, edges)
    for lo in range(min(lo0, cap), 0, -1):
        for k in range(max(k0, 2), n // lo + 1):
            infeasible, found = _solve(
                empty, k, lo, max_size, optimise=False, time_limit=_CHECK_TIME
            )
            if not infeasible:
                # Undecided in the time given (a very loaded machine): keep these sizes,
                # ``compose`` falls back on a repaired round-robin if need be.
                return k, lo, None if found is None else tuple(found)
    # Not reached: everyone alone is always valid (lo = 1, k = n).
    return n, 1, tuple(range(n))  # pragma: no cover


def _size_rule(people, max_size, min_size):
    edges = tuple(_manager_edges(people))
    return _plan(len(people), edges, max_size, min_size)


def _repaired_round_robin(people, k, max_size, edges):
    """Last resort: round-robin, then each cadre with their manager or a report moved to
    the first group without one (a new group if need be)."""
    assignment = [i % k for i in range(len(people))]
    apart = defaultdict(set)
    for a, b in edges:
        apart[a].add(b)
        apart[b].add(a)
    for i in range(len(people)):
        groups = defaultdict(set)
        for j, g in enumerate(assignment):
            groups[g].add(j)
        if not apart[i] & groups[assignment[i]]:
            continue
        options = [
            g for g in sorted(groups) if not apart[i] & groups[g] and len(groups[g]) < max_size
        ]
        assignment[i] = options[0] if options else max(groups) + 1
    return assignment


def _to_groups(people, assignment):
    groups = defaultdict(list)
    for person, g in zip(people, assignment, strict=True):
        groups[g].append(person.id)
    return [groups[g] for g in sorted(groups)]


def compose(people: Sequence[Person], *, max_size=8, min_size=5, time_limit=10.0):
    """Propose groups for the cohort: the optimum of the objective under the hard rules
    (or the best grouping found within ``time_limit``, in CP-SAT's deterministic time)."""
    people = list(people)
    n = len(people)
    if n == 0:
        return Composition([], [], 0, dict.fromkeys(PARTS, 0))
    k, lo, feasible = _size_rule(people, max_size, min_size)
    # The model sees the largest directions first, each sorted by function.
    size = Counter(p.direction for p in people)
    order = sorted(
        range(n),
        key=lambda i: (
            people[i].direction is None,
            -size[people[i].direction],
            people[i].direction or 0,
            _norm(people[i].fonction),
            i,
        ),
    )
    position = {i: pos for pos, i in enumerate(order)}
    edges = [(position[a], position[b]) for a, b in _manager_edges(people)]
    problem = (
        [people[i].direction for i in order],
        [_norm(people[i].fonction) for i in order],
        edges,
    )
    # First solutions (model order), the best one as CP-SAT's hint: that order dealt
    # in turn (it spreads every direction evenly) with managers swapped away from their
    # reports, a greedy placement, the plan's grouping.
    starts = [_separate([pos % k for pos in range(n)], edges, problem[0]), _greedy(problem, k)]
    if feasible is not None:
        starts.append([feasible[i] for i in order])
    starts.append([i % k for i in order])  # the naive deal of the input order
    valid = [a for a in starts if a is not None and not _together(a, edges)]

    def objective(assignment):
        return evaluate(_to_groups([people[i] for i in order], assignment), people)[0]

    hint = min(valid, key=objective) if valid else [pos % k for pos in range(n)]
    _, found = _solve(problem, k, lo, max_size, optimise=True, hint=hint, time_limit=time_limit)
    # CP-SAT starts from the hint, so it never does worse; kept anyway in case the time
    # runs out before it loads it.
    candidates = [a for a in (found, *valid) if a is not None]
    candidates = [[a[position[i]] for i in range(n)] for a in candidates]  # input order
    note = ""
    if not candidates:  # only if CP-SAT ran out of time twice (a very loaded machine)
        candidates.append(_repaired_round_robin(people, k, max_size, _manager_edges(people)))
        note = (
            "Le calcul d'optimisation n'a pas abouti : groupes faits par répartition "
            "simple puis corrigés pour séparer chaque cadre de son responsable. "
        )
    groups = min((_to_groups(people, c) for c in candidates), key=lambda g: evaluate(g, people)[0])
    cost, breakdown = evaluate(groups, people)
    texts = explain(groups, people, max_size=max_size, min_size=min_size)
    return Composition(groups, [note + t for t in texts], cost, breakdown)


def _together(assignment, edges):
    return any(assignment[a] == assignment[b] for a, b in edges)


def _greedy(problem, k):
    """Each person (in model order) to the valid group with the fewest of their
    direction, then of their function, then of members; None when stuck."""
    directions, fonctions, edges = problem
    n = len(directions)
    low, extra = divmod(n, k)  # ``extra`` groups hold one more member
    apart = defaultdict(set)
    for a, b in edges:
        apart[a].add(b)
        apart[b].add(a)
    members = [[] for _ in range(k)]
    assignment = [None] * n
    for i in range(n):
        options = []
        for g, group in enumerate(members):
            if len(group) > low or (len(group) == low and extra == 0):
                continue
            if any(assignment[j] == g for j in apart[i]):
                continue
            same_direction = directions[i] is not None and sum(
                directions[j] == directions[i] for j in group
            )
            same_fonction = fonctions[i] != "" and sum(fonctions[j] == fonctions[i] for j in group)
            options.append((same_direction, same_fonction, len(group), g))
        if not options:
            return None
        g = min(options)[-1]
        extra -= len(members[g]) == low
        members[g].append(i)
        assignment[i] = g
    return assignment


def _separate(assignment, edges, directions, passes=3):
    """``assignment`` with each cadre swapped out of their manager's group (a member of
    another group, of the same direction if possible, takes their place: sizes and the
    spread of directions are kept), or None if swaps do not suffice."""
    assignment = list(assignment)
    apart = defaultdict(set)
    for a, b in edges:
        apart[a].add(b)
        apart[b].add(a)

    def clash(i, g, leaving):
        return any(assignment[j] == g and j != leaving for j in apart[i])

    for _ in range(passes):
        for a, b in edges:
            g = assignment[b]
            if assignment[a] != g:
                continue
            options = [
                (directions[c] != directions[b], c)
                for c, h in enumerate(assignment)
                if h != g and not clash(b, h, c) and not clash(c, g, b)
            ]
            if options:
                c = min(options)[1]
                assignment[b], assignment[c] = assignment[c], g
        if not _together(assignment, edges):
            return assignment
    return None


# --- Checking a grouping after hand moves --------------------------------------------


def violations(groups, people, *, max_size=8, min_size=5):
    """French messages for each hard-rule breach of ``groups``; [] when all hold.

    Empty groups are ignored (a group the délégué emptied). A group under
    ``min_size`` is a breach only when avoidable (see the module docstring)."""
    people = list(people)
    by_id = {p.id: p for p in people}
    messages = []
    seen = Counter(i for group in groups for i in group)
    for i in sorted(i for i in seen if i not in by_id):
        messages.append(f"Le cadre n° {i} ne fait pas partie de la cohorte.")
    for person in people:
        if seen[person.id] == 0:
            messages.append(f"{person.label} n'est dans aucun groupe.")
        elif seen[person.id] > 1:
            messages.append(f"{person.label} est dans plusieurs groupes.")
    numbered = [(number, group) for number, group in enumerate(groups, 1) if group]
    for number, group in numbered:
        members = set(group)
        for i in group:
            person = by_id.get(i)
            if person and person.responsable_id in members and person.responsable_id != i:
                manager = by_id[person.responsable_id]
                messages.append(
                    f"Groupe {number} : {manager.label} est le responsable hiérarchique de "
                    f"{person.label} ; ils ne peuvent pas être dans le même groupe."
                )
    for number, group in numbered:
        if len(group) > max_size:
            messages.append(
                f"Le groupe {number} compte {len(group)} membres, plus que le maximum "
                f"de {max_size}."
            )
    small = [(number, group) for number, group in numbered if len(group) < min_size]
    if small and len(people) >= min_size:
        floor = _floor(people, max_size, min_size, min(len(g) for _, g in small))
        for number, group in small:
            if len(group) < floor:
                messages.append(
                    f"Le groupe {number} compte {len(group)} membre{'s' * (len(group) > 1)}, "
                    f"moins que le minimum de {floor}."
                )
    return messages


def _floor(people, max_size, min_size, smallest):
    """The smallest group size the rules allow for this cohort. The solver is asked only
    when a group is under the usual minimum and line-manager links could explain it."""
    usual = _usual_minimum(len(people), max_size, min_size)
    if smallest >= usual or not _manager_edges(people):
        return usual
    return _size_rule(people, max_size, min_size)[1]


# --- Explanations --------------------------------------------------------------------


def _plural(count, word):
    return f"{count} {word}{'s' if count > 1 else ''}"


def _variety(count, word):
    """ "5 directions différentes", "une seule direction", "aucune fonction connue"."""
    if count == 0:
        return f"aucune {word} connue"
    return "une seule " + word if count == 1 else f"{count} {word}s différentes"


def explain(groups, people, *, max_size=8, min_size=5):
    """One French paragraph per (non-empty) group: what it mixes, what it could not
    avoid and why."""
    people = list(people)
    by_id = {p.id: p for p in people}
    groups = [[i for i in g if i in by_id] for g in groups]
    groups = [g for g in groups if g]
    n, k = sum(len(g) for g in groups), len(groups)
    in_cohort = Counter(p.direction for p in people if p.direction is not None)
    labels = {p.direction: p.direction_label for p in people}
    texts = []
    for number, group in enumerate(groups, 1):
        members = [by_id[i] for i in group]
        directions = Counter(p.direction for p in members if p.direction is not None)
        fonctions = Counter(_norm(p.fonction) for p in members if _norm(p.fonction))
        spelled = {_norm(p.fonction): p.fonction.strip() for p in members}
        parts = [_variety(len(directions), "direction"), _variety(len(fonctions), "fonction")]
        unknown = sum(p.direction is None for p in members)
        if unknown:
            parts.append(f"{unknown} sans direction connue")
        text = f"Groupe {number} ({_plural(len(group), 'membre')}) : {', '.join(parts)}."
        for direction, count in sorted(directions.items(), key=lambda item: -item[1]):
            if count < 2:
                continue
            total = in_cohort[direction]
            even = ceil(total / k)
            text += f" {count} membres de « {labels[direction]} » ensemble : "
            if count <= even:
                text += f"inévitable, la cohorte en compte {total} pour {_plural(k, 'groupe')}."
            else:
                text += (
                    f"une répartition égale en mettrait {even} au plus par groupe "
                    f"(la cohorte en compte {total} pour {_plural(k, 'groupe')})."
                )
        for fonction, count in sorted(fonctions.items(), key=lambda item: -item[1]):
            if count > 1:
                text += f" {count} membres ont la fonction « {spelled[fonction]} »."
        text += _size_note(len(group), people, max_size, min_size, n)
        text += _manager_note(members, by_id)
        texts.append(text)
    return texts


def _size_note(size, people, max_size, min_size, n):
    if size > max_size:
        return f" Au-delà du maximum de {max_size} membres."
    if size >= min_size or n < min_size:
        return ""
    floor = _floor(people, max_size, min_size, size)
    if size < floor:
        return f" Sous le minimum de {min_size} membres."
    if n // group_count(n, max_size=max_size, min_size=min_size) < min_size:
        reason = f"{n} cadres ne se répartissent pas en groupes de {min_size} à {max_size}"
    else:
        reason = (
            "les liens hiérarchiques de la cohorte l'imposent (un cadre n'est jamais "
            "dans le groupe de son responsable)"
        )
    return f" Sous le minimum de {min_size} membres : inévitable, {reason}."


def _manager_note(members, by_id):
    ids = {p.id for p in members}
    together = [p for p in members if p.responsable_id in ids and p.responsable_id != p.id]
    if together:
        return "".join(
            f" Attention : {p.label} est avec son responsable hiérarchique "
            f"{by_id[p.responsable_id].label}."
            for p in together
        )
    linked = any(p.responsable_id in by_id for p in members) or any(
        p.responsable_id in ids for p in by_id.values()
    )
    return " Aucun membre n'est avec son responsable hiérarchique." if linked else ""


# --- Loading from the database -------------------------------------------------------


def people_for(cadres):
    """``Person`` rows for cadres (a queryset or an iterable of ``Cadre``), in their
    order, in three queries at most whatever their number.

    The direction is the cadre's structure when it is a direction, else the nearest
    structure of type "direction" above it, else the structure itself (an opérateur,
    a ministry's own staff): read from the materialised paths, not parent by parent."""
    from cadres.models import Structure

    cadres = list(cadres)
    paths = dict(
        Structure.objects.filter(pk__in={c.structure_id for c in cadres}).values_list(
            "pk", "chemin"
        )
    )
    lineage = {pk: [int(part) for part in path.strip("/").split("/")] for pk, path in paths.items()}
    nodes = Structure.objects.in_bulk({pk for line in lineage.values() for pk in line})
    people = []
    for cadre in cadres:
        line = [nodes[pk] for pk in lineage[cadre.structure_id] if pk in nodes]
        directions = [s for s in line if s.type == Structure.Type.DIRECTION]
        direction = directions[-1] if directions else nodes[cadre.structure_id]
        people.append(
            Person(
                id=cadre.pk,
                label=f"{cadre.prenom} {cadre.nom.upper()}",
                direction=direction.pk,
                direction_label=direction.nom,
                fonction=cadre.fonction or "",
                responsable_id=cadre.responsable_id,
            )
        )
    return people
