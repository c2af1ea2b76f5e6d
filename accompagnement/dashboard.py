"""The délégué's dashboard: figures of their perimeter over a period, by section.

``accompagnement`` computes what every scheme shares (requests and their delays,
satisfaction, breakdowns by structure and by gender); each scheme adds its sections
through the registry (``Scheme.dashboard``). A section is numbers and charts; a chart
is drawn as an SVG on the server with its data table beside it (``charts.html``), so
it reads without JavaScript and with a screen reader.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Avg, Count, Q
from django.utils import timezone

from cadres.models import Cadre
from cadres.perimeter import filter_for_user, perimeter_paths

from . import registry
from .models import Demande, Dispositif, Evaluation
from .services.evaluations import MIN_ANSWERS

# DSFR illustrative colours, readable on white and distinct in grey scale order.
PALETTE = ["#000091", "#E1000F", "#18753C", "#B34000", "#6A6AF4", "#A558A0", "#009081", "#716043"]
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, VALUE_WIDTH = 230, 380, 28, 70


@dataclass
class Scope:
    """Who looks (their perimeter) and over which period (inclusive dates)."""

    user: object
    start: date
    end: date

    def filter(self, queryset, structure_path):
        return filter_for_user(queryset, self.user, structure_path)

    def in_period(self, field_name):
        """Q for a date or datetime field inside the period."""
        return Q(**{f"{field_name}__date__gte": self.start, f"{field_name}__date__lte": self.end})

    def dates_in_period(self, field_name):
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lte": self.end})


@dataclass
class Chart:
    """Horizontal bars, one per category; several series are stacked."""

    titre: str
    categories: list
    series: list  # [(name, [value per category])]
    unit: str = ""
    # A fixed scale (5 for a satisfaction average, 100 for a rate), else the largest total.
    scale: float | None = None
    dom_id: str = ""  # set by the page, for the ids tying the SVG to its table

    @property
    def totals(self):
        return [sum(values[i] for _, values in self.series) for i in range(len(self.categories))]

    @property
    def is_empty(self):
        return not any(self.totals)

    def legend(self):
        return [
            {"name": name, "color": PALETTE[k % len(PALETTE)]}
            for k, (name, _) in enumerate(self.series)
        ]

    def rows(self):
        """Geometry of each bar (x, width in SVG units), computed here, not in templates."""
        scale = self.scale or max(self.totals, default=0) or 1
        rows = []
        for i, category in enumerate(self.categories):
            x, segments = LABEL_WIDTH, []
            for k, (name, values) in enumerate(self.series):
                width = BAR_WIDTH * values[i] / scale
                if width > 0:
                    segments.append(
                        {
                            "x": _num(x),
                            "width": _num(width),
                            "color": PALETTE[k % len(PALETTE)],
                            "title": f"{category} – {name} : {_fmt(values[i])}{self.unit}",
                        }
                    )
                x += width
            rows.append(
                {
                    "label": category,
                    "bar_y": _num(i * ROW_HEIGHT + 4),
                    "text_y": _num(i * ROW_HEIGHT + ROW_HEIGHT / 2 + 4),
                    "segments": segments,
                    "value": f"{_fmt(self.totals[i])}{self.unit}",
                    "value_x": _num(x + 6),
                    "cells": [_fmt(values[i]) for _, values in self.series],
                }
            )
        return rows

    @property
    def height(self):
        return max(len(self.categories), 1) * ROW_HEIGHT

    @property
    def width(self):
        return LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH


@dataclass
class Section:
    titre: str
    figures: list = field(default_factory=list)  # [(label, value)]
    charts: list = field(default_factory=list)
    note: str = ""


def _num(value):
    """An SVG coordinate: a dot as decimal separator, whatever the locale."""
    return f"{value:.1f}"


def _fmt(value):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return f"{value:,}".replace(",", "\u202f")


# --- Shared figures ------------------------------------------------------------------


def _demandes(scope):
    return scope.filter(Demande.objects.all(), "cadre__structure")


def requests_section(scope):
    received = _demandes(scope).filter(scope.in_period("recue_le"))
    by_scheme_status = {
        (row["dispositif"], row["statut"]): row["n"]
        for row in received.values("dispositif", "statut").annotate(n=Count("pk"))
    }
    decided = list(
        _demandes(scope)
        .filter(scope.in_period("decidee_le"), statut__in=Demande.DECISIONS)
        .values_list("recue_le", "decidee_le")
    )
    delays = [(d - r).total_seconds() / 86400 for r, d in decided]
    overdue = _demandes(scope).overdue().count()
    accepted = sum(n for (_, s), n in by_scheme_status.items() if s == Demande.Statut.ACCEPTEE)
    schemes = list(Dispositif)
    chart = Chart(
        "Demandes reçues sur la période, par dispositif et statut",
        [d.label for d in schemes],
        [
            (statut.label, [by_scheme_status.get((d.value, statut.value), 0) for d in schemes])
            for statut in Demande.Statut
        ],
    )
    return Section(
        "Demandes",
        figures=[
            ("Demandes reçues", sum(by_scheme_status.values())),
            ("dont acceptées", accepted),
            ("Décisions rendues", len(decided)),
            (
                "Délai médian de décision (jours)",
                round(statistics.median(delays), 1) if delays else None,
            ),
            ("Demandes en retard aujourd'hui", overdue),
        ],
        charts=[chart],
    )


def satisfaction_section(scope):
    rows = {
        row["dispositif"]: row
        for row in scope.filter(Evaluation.objects.all(), "cadre__structure")
        .filter(scope.in_period("remplie_le"), satisfaction__isnull=False)
        .values("dispositif")
        .annotate(n=Count("pk"), moyenne=Avg("satisfaction"))
    }
    shown = [d for d in Dispositif if rows.get(d.value, {}).get("n", 0) >= MIN_ANSWERS]
    return Section(
        "Satisfaction",
        figures=[
            (f"{d.label} ({rows[d.value]['n']} réponses)", round(rows[d.value]["moyenne"], 1))
            for d in shown
        ],
        charts=[
            Chart(
                "Satisfaction moyenne (sur 5) des évaluations remplies sur la période",
                [d.label for d in shown],
                [("Satisfaction moyenne", [round(rows[d.value]["moyenne"], 2) for d in shown])],
                unit=" / 5",
                scale=5,
            )
        ],
        note=f"Une moyenne n'est affichée qu'à partir de {MIN_ANSWERS} réponses, pour "
        "qu'aucune ne désigne une personne.",
    )


def _branch_depth(scope):
    """Breakdowns go one level below the perimeter's roots (ministries for a national
    administrator, the directions of a ministry for its délégué)."""
    paths = perimeter_paths(scope.user)
    if not paths:
        return 1
    return min(path.count("/") for path in paths) + 1


def structure_section(scope):
    from cadres.models import Structure

    depth = _branch_depth(scope)
    counts = {}
    for chemin, statut in (
        _demandes(scope)
        .filter(scope.in_period("recue_le"))
        .values_list("cadre__structure__chemin", "statut")
    ):
        branch = "/".join(chemin.strip("/").split("/")[:depth]) + "/"
        received, accepted = counts.get(branch, (0, 0))
        counts[branch] = (received + 1, accepted + (statut == Demande.Statut.ACCEPTEE))
    names = dict(Structure.objects.filter(chemin__in=counts).values_list("chemin", "nom"))
    branches = sorted(counts, key=lambda b: (-counts[b][0], names.get(b, "")))
    return Section(
        "Par structure",
        charts=[
            Chart(
                "Demandes reçues et acceptées sur la période, par structure",
                [names.get(b, "Autre") for b in branches],
                [
                    ("Acceptées", [counts[b][1] for b in branches]),
                    (
                        "Autres décisions ou en cours",
                        [counts[b][0] - counts[b][1] for b in branches],
                    ),
                ],
            )
        ],
    )


def gender_section(scope):
    """Equality reporting: requests and acceptances by civilité, cadres of the perimeter."""
    received = {
        (row["dispositif"], row["cadre__civilite"]): (row["n"], row["acceptees"])
        for row in _demandes(scope)
        .filter(scope.in_period("recue_le"))
        .values("dispositif", "cadre__civilite")
        .annotate(n=Count("pk"), acceptees=Count("pk", filter=Q(statut=Demande.Statut.ACCEPTEE)))
    }
    cadres = dict(
        scope.filter(Cadre.objects.filter(actif=True), "structure")
        .values("civilite")
        .annotate(n=Count("pk"))
        .values_list("civilite", "n")
    )
    schemes = list(Dispositif)
    women, men = Cadre.Civilite.MADAME, Cadre.Civilite.MONSIEUR

    def series(civilite, index):
        return [received.get((d.value, civilite), (0, 0))[index] for d in schemes]

    return Section(
        "Égalité femmes-hommes",
        figures=[
            ("Cadres du périmètre : femmes", cadres.get(women, 0)),
            ("Cadres du périmètre : hommes", cadres.get(men, 0)),
        ],
        charts=[
            Chart(
                "Demandes reçues sur la période, par dispositif et civilité",
                [d.label for d in schemes],
                [("Femmes", series(women, 0)), ("Hommes", series(men, 0))],
            ),
            Chart(
                "Demandes acceptées sur la période, par dispositif et civilité",
                [d.label for d in schemes],
                [("Femmes", series(women, 1)), ("Hommes", series(men, 1))],
            ),
        ],
    )


def sections(scope):
    """Every section, shared ones first, then one or more per scheme."""
    result = [requests_section(scope)]
    for scheme in registry.all_schemes():
        if scheme.dashboard:
            result += scheme.dashboard(scope)
    result += [satisfaction_section(scope), structure_section(scope), gender_section(scope)]
    return result


def default_period(today=None):
    today = today or timezone.localdate()
    return date(today.year, 1, 1), today
