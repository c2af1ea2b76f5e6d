"""``manage.py seed_scale --cadres N``: a realistic dataset of N cadres, built in bulk
for the benchmarks (proportions in ``accompagnement/scale.py``)."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accompagnement import scale

MAX_CADRES = 200_000


def cadres_count(value):
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"--cadres attend un nombre entier, pas « {value} ».") from None
    if not 1 <= number <= MAX_CADRES:
        raise CommandError(
            f"--cadres doit être compris entre 1 et {MAX_CADRES:_}.".replace("_", " ")
        )
    return number


class Command(BaseCommand):
    help = (
        "Construit en masse un jeu de données réaliste de N cadres (structures de 30 "
        "ministères, coachs, mentors, groupes, séances passées et à venir, immersions, "
        "demandes, boîte d'envoi) pour les mesures de performance. Tous les comptes ont "
        f"le mot de passe « {scale.SHARED_PASSWORD} » : jamais sur une base réelle."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cadres", required=True, help="nombre de cadres (N)")
        parser.add_argument("--seed", type=int, default=1, help="graine du tirage (1)")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--flush", action="store_true", help="vider d'abord toute la base (manage.py flush)"
        )
        mode.add_argument(
            "--append", action="store_true", help="ajouter aux données déjà présentes"
        )

    def handle(self, *args, **options):
        n = cadres_count(options["cadres"])
        if connection.vendor == "sqlite" and n > scale.SQLITE_MAX_CADRES:
            raise CommandError(
                f"SQLite est réservé aux petits jeux (--cadres {scale.SQLITE_MAX_CADRES} au "
                "plus) : utilisez PostgreSQL (DATABASE_URL=postgres://…)."
            )
        if not (options["flush"] or options["append"] or scale.is_empty()):
            raise CommandError(
                "La base contient déjà des cadres ou des comptes : relancez avec --flush pour "
                "tout effacer d'abord, ou avec --append pour ajouter à l'existant. Rien n'a "
                "été modifié."
            )
        started = time.perf_counter()
        if options["flush"]:
            self.stdout.write("Vidage de la base (flush)…")
            # CASCADE: auditlog's own table (unused, AUDITLOG_LOGENTRY_MODEL is
            # rgpd.Trace) still points at the content types.
            call_command("flush", interactive=False, verbosity=0, allow_cascade=True)
        self.stdout.write(f"Jeu de données de {n} cadres (graine {options['seed']}) :")
        counts, _timings = scale.build(n, seed=options["seed"], out=self.stdout.write)
        total = time.perf_counter() - started
        self.stdout.write("Lignes écrites :")
        for label, count in sorted(counts.items()):
            self.stdout.write(f"  {label:<36} {count:>10,}".replace(",", " "))
        rows = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(f"{rows:,} lignes en {total:.1f} s.".replace(",", " "))
        )
