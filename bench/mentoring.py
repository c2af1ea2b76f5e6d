"""Benchmark of the mentoring matching engine at the scale of the State.

    .venv/bin/python -m bench.mentoring [--mentees 10000] [--mentors 3000] [--seed 1]
                                        [--repeat 3]

Builds a realistic random campaign (ministries > directions > sub-directions,
expertise domains, experience, cities, wishes, exclusions, pairs already tried,
hierarchical-line conflicts, mentor capacity 1-5), pins the process to one core, and
times ``matching.solve`` (exact min-cost flow) against ``matching.greedy`` (best pairs
first). Targets: the exact solve under 10 s (wall clock, best of ``--repeat`` runs;
the CPU time is shown too), and a total score strictly higher than greedy's. The exit
code is non-zero when a target is missed.

Pure Python + NumPy + OR-Tools: Django is not loaded (``mentorat/__init__.py`` is
empty and ``mentorat.matching`` imports no Django module).
"""

import os

# One core: set before NumPy (and its BLAS) is imported anywhere.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

from mentorat import matching  # noqa: E402

TARGET_SECONDS = 10.0

DOMAINS = [
    "Transformation numérique",
    "Management d'équipe",
    "Conduite du changement",
    "Finances publiques",
    "Achats publics",
    "Ressources humaines",
    "Dialogue social",
    "Affaires juridiques",
    "Relations internationales",
    "Affaires européennes",
    "Communication",
    "Gestion de crise",
    "Politiques sociales",
    "Santé publique",
    "Sécurité intérieure",
    "Défense",
    "Environnement",
    "Aménagement du territoire",
    "Culture",
    "Éducation",
    "Recherche",
    "Données et statistiques",
    "Relations avec les élus",
    "Pilotage de la performance",
    "Immobilier de l'État",
]
# Cities with a rough weight (the capital carries most senior posts).
CITIES = {
    "Paris": 40,
    "Lyon": 8,
    "Marseille": 7,
    "Toulouse": 6,
    "Bordeaux": 6,
    "Lille": 6,
    "Nantes": 6,
    "Strasbourg": 5,
    "Rennes": 5,
    "Montpellier": 5,
}


def build_tree(rng, ministries=30):
    """Lineages (ministry, direction, sub-direction) of a random organisation tree:
    every structure a person can sit in, from ministry level down."""
    lineages, next_id = [], 1
    for _ in range(ministries):
        ministry = next_id
        next_id += 1
        lineages.append((ministry,))
        for _ in range(rng.randint(3, 8)):
            direction = next_id
            next_id += 1
            lineages.append((ministry, direction))
            for _ in range(rng.randint(2, 5)):
                lineages.append((ministry, direction, next_id))
                next_id += 1
    return lineages


def _lineage(rng, lineages):
    # Most people sit in a sub-direction, some in a direction, a few at ministry level.
    depth = rng.choices((1, 2, 3), weights=(1, 3, 6))[0]
    while True:
        lineage = rng.choice(lineages)
        if len(lineage) == depth:
            return lineage


def build_instance(n_mentees, n_mentors, seed):
    rng = random.Random(seed)
    lineages = build_tree(rng)
    cities, city_weights = list(CITIES), list(CITIES.values())

    mentors = []
    for j in range(n_mentors):
        # 5 % of mentors belong to no structure (a shared pool).
        lineage = () if rng.random() < 0.05 else _lineage(rng, lineages)
        mentors.append(
            matching.MentorProfile(
                key=j,
                label=f"Mentor {j}",
                domaines=frozenset(rng.sample(DOMAINS, rng.randint(2, 4))),
                experience=rng.randint(8, 35),
                ville=rng.choices(cities, city_weights)[0],
                lineage=lineage,
                capacity=rng.randint(1, 5),
            )
        )
    by_ministry = {}
    for mentor in mentors:
        if mentor.lineage:
            by_ministry.setdefault(mentor.lineage[0], []).append(mentor.key)

    mentees = []
    for i in range(n_mentees):
        lineage = _lineage(rng, lineages)
        domaines = frozenset(rng.sample(DOMAINS, rng.randint(1, 3)))
        # Wishes: 0-3 mentors, often ones who offer a needed domain.
        wishes = set()
        for _ in range(rng.choices((0, 1, 2, 3), weights=(4, 3, 2, 1))[0]):
            pick = rng.choice(mentors)
            for _ in range(5):
                if pick.domaines & domaines:
                    break
                pick = rng.choice(mentors)
            wishes.add(pick.key)
        exclus = {rng.randrange(n_mentors) for _ in range(rng.choices((0, 1, 2), (7, 2, 1))[0])}
        tried = (
            {rng.randrange(n_mentors) for _ in range(rng.randint(1, 2))}
            if rng.random() < 0.1
            else set()
        )
        # Line conflicts: managers or staff, mostly in the same ministry.
        line = set()
        if rng.random() < 0.15:
            same = by_ministry.get(lineage[0]) or [rng.randrange(n_mentors)]
            line = {rng.choice(same) for _ in range(rng.randint(1, 3))}
        mentees.append(
            matching.MenteeProfile(
                key=i,
                label=f"Mentoré {i}",
                domaines=domaines,
                experience=rng.randint(0, 12),
                ville=rng.choices(cities, city_weights)[0],
                presentiel=rng.random() < 0.4,
                lineage=lineage,
                souhaites=frozenset(wishes),
                exclus=frozenset(exclus),
                deja_essayes=frozenset(tried),
                ligne=frozenset(line),
            )
        )
    return mentees, mentors


def pin_one_core():
    """Run on the first CPU the process may use; returns it (None if unsupported)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def check(result, mentees, mentors):
    """The hard rules, re-checked on the result (cheap insurance for the benchmark)."""
    load = Counter(p.mentor.key for p in result.proposals)
    capacity = {m.key: m.capacity for m in mentors}
    assert all(load[k] <= capacity[k] for k in load), "capacité dépassée"
    assert all(matching.forbidden_reason(p.mentee, p.mentor) is None for p in result.proposals)
    assert len(result.proposals) + len(result.unmatched) == len(mentees)


def timed(function, mentees, mentors, repeat):
    """The result, and the best wall-clock and CPU times over ``repeat`` runs (the
    best run is the one least disturbed by other processes on the machine)."""
    walls, cpus, totals = [], [], set()
    for _ in range(max(repeat, 1)):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(mentees, mentors)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        totals.add(result.total_score)
    assert len(totals) == 1, "résultat non déterministe"
    return result, min(walls), min(cpus)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentees", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the optimal solve; the best time counts"
    )
    args = parser.parse_args(argv)
    if args.mentees < 1 or args.mentors < 1:
        parser.error("--mentees and --mentors must be at least 1")

    cpu = pin_one_core()
    started = time.perf_counter()
    mentees, mentors = build_instance(args.mentees, args.mentors, args.seed)
    built = time.perf_counter() - started
    places = sum(m.capacity for m in mentors)

    optimal, t_optimal, cpu_optimal = timed(matching.solve, mentees, mentors, args.repeat)
    baseline, t_greedy, cpu_greedy = timed(matching.greedy, mentees, mentors, 1)
    check(optimal, mentees, mentors)
    check(baseline, mentees, mentors)

    print("Mentoring matching benchmark")
    print(f"  machine   : {cpu_model()}, {os.cpu_count()} CPU(s), pinned to CPU {cpu}")
    print(f"  python    : {platform.python_version()}, seed {args.seed}")
    print(
        f"  instance  : {len(mentees)} mentees × {len(mentors)} mentors, {places} places "
        f"(capacity 1-5), built in {built:.1f} s"
    )
    print()
    header = (
        f"  {'':<10}{'proposals':>11}{'unmatched':>11}{'total score':>14}"
        f"{'wall (s)':>11}{'cpu (s)':>10}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, result, seconds, cpu_seconds in (
        ("optimal", optimal, t_optimal, cpu_optimal),
        ("greedy", baseline, t_greedy, cpu_greedy),
    ):
        print(
            f"  {name:<10}{len(result.proposals):>11}{len(result.unmatched):>11}"
            f"{result.total_score:>14}{seconds:>11.2f}{cpu_seconds:>10.2f}"
        )
    gain = optimal.total_score - baseline.total_score
    print(
        f"  {'difference':<10}{len(optimal.proposals) - len(baseline.proposals):>+11}"
        f"{len(optimal.unmatched) - len(baseline.unmatched):>+11}{gain:>+14}"
        f"{'':>21}  ({100 * gain / max(baseline.total_score, 1):+.3f} %)"
    )
    print()
    fast = t_optimal < TARGET_SECONDS
    better = gain > 0
    print(
        f"  {'PASS' if fast else 'FAIL'}  optimal solve under {TARGET_SECONDS:.0f} s on one core "
        f"({t_optimal:.2f} s wall, best of {max(args.repeat, 1)})"
    )
    print(f"  {'PASS' if better else 'FAIL'}  total score strictly higher than greedy ({gain:+d})")
    return 0 if fast and better else 1


if __name__ == "__main__":
    sys.exit(main())
