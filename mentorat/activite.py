"""A mentor's activity record for the annual review (entretien professionnel): the
relations, the meetings held and the hours, per calendar year, as a PDF and as a CSV.
The public service's mentoring guide asks employers to recognise mentoring in the
annual evaluation: this is that record.

One builder for the mentor (portal) and the délégué (admin, relations of their
perimeter only); dates and durations only, never what was said. Hours are those of
the meetings held (their planned duration), counted in the year they took place.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from accompagnement.models import Session
from cadres.exports import CSV_CONTENT_TYPE, csv_text

from .models import Mentorat, Rencontre

# Proposals not (yet) accepted, and declined ones, are no mentoring activity.
COUNTED = (
    Mentorat.Statut.ACCEPTE,
    Mentorat.Statut.EN_COURS,
    Mentorat.Statut.TERMINE,
    Mentorat.Statut.INTERROMPU,
)
CSV_HEADER = [
    "Année",
    "Mentoré",
    "Contexte",
    "Début du mentorat",
    "Fin du mentorat",
    "Statut",
    "Rencontres tenues",
    "Heures",
    "Dates des rencontres",
]


def hours(minutes):
    """Minutes as decimal hours, to the hundredth (for spreadsheets)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def hours_label(minutes):
    """Minutes as "3 h 30" (for people)."""
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d}" if m else f"{h} h"


@dataclass
class RelationYear:
    mentorat: Mentorat
    dates: list = field(default_factory=list)  # local dates of the meetings held
    minutes: int = 0

    @property
    def fin(self):
        return self.mentorat.date_fin or self.mentorat.date_fin_prevue

    @property
    def heures(self):
        return hours_label(self.minutes)


@dataclass
class Year:
    annee: int
    relations: list = field(default_factory=list)

    @property
    def rencontres(self):
        return sum(len(r.dates) for r in self.relations)

    @property
    def minutes(self):
        return sum(r.minutes for r in self.relations)

    @property
    def heures(self):
        return hours_label(self.minutes)


@dataclass
class Releve:
    mentor: object
    annee: int | None
    years: list
    partial: bool  # limited to a délégué's perimeter

    @property
    def minutes(self):
        return sum(y.minutes for y in self.years)

    @property
    def heures(self):
        return hours_label(self.minutes)

    @property
    def rencontres(self):
        return sum(y.rencontres for y in self.years)

    def filename(self, extension):
        period = self.annee or "toutes-annees"
        name = slugify(f"{self.mentor.prenom} {self.mentor.nom}") or "mentor"
        return f"activite-mentorat-{name}-{period}.{extension}"


def build(mentor, relations, annee=None, partial=False):
    """The record of ``mentor`` over ``relations`` (a queryset the caller may see), for
    one year or all. Two queries whatever the number of relations and meetings."""
    current = timezone.localdate().year
    relations = list(
        relations.filter(mentor=mentor, statut__in=COUNTED)
        .select_related("mentore")
        .order_by("date_debut", "pk")
    )
    held = Rencontre.objects.filter(
        mentorat__in=[r.pk for r in relations], statut=Session.Statut.REALISEE
    ).order_by("debut", "pk")
    by_relation = {}
    for mentorat_id, debut, duree in held.values_list("mentorat_id", "debut", "duree"):
        day = timezone.localtime(debut).date()
        by_relation.setdefault(mentorat_id, []).append((day, duree))

    years = {}
    for mentorat in relations:
        # A relation counts in each year it ran (to today at most), meeting or not,
        # and in any year it had a meeting.
        end = min((mentorat.date_fin or mentorat.date_fin_prevue).year, current)
        span = set(range(mentorat.date_debut.year, end + 1))
        span |= {day.year for day, _ in by_relation.get(mentorat.pk, ())}
        for year in sorted(span):
            if annee is not None and year != annee:
                continue
            entry = RelationYear(mentorat)
            for day, duree in by_relation.get(mentorat.pk, ()):
                if day.year == year:
                    entry.dates.append(day)
                    entry.minutes += duree
            years.setdefault(year, Year(year)).relations.append(entry)
    return Releve(
        mentor=mentor,
        annee=annee,
        years=[years[y] for y in sorted(years, reverse=True)],
        partial=partial,
    )


def parse_year(value):
    """The ``annee`` parameter: None (every year), or a year; ValueError otherwise."""
    if value in (None, ""):
        return None
    year = int(value)
    if not 2000 <= year <= timezone.localdate().year + 1:
        raise ValueError(year)
    return year


def to_csv(releve):
    """``;``-separated, UTF-8 with a BOM, as French spreadsheets read it (like the admin
    exports): one line per relation and year."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for year in releve.years:
        for entry in year.relations:
            mentorat = entry.mentorat
            writer.writerow(
                [
                    csv_text(value)
                    for value in (
                        year.annee,
                        str(mentorat.mentore),
                        mentorat.get_contexte_display(),
                        mentorat.date_debut,
                        entry.fin,
                        mentorat.get_statut_display(),
                        len(entry.dates),
                        hours(entry.minutes),
                        ", ".join(f"{day:%d/%m/%Y}" for day in entry.dates),
                    )
                ]
            )
    return ("\ufeff" + out.getvalue()).encode()


def to_pdf(releve):
    from weasyprint import HTML

    html = render_to_string(
        "mentorat/activite_pdf.html",
        {"releve": releve, "product_name": settings.PRODUCT_NAME, "now": timezone.now()},
    )
    return HTML(string=html).write_pdf()


def response(mentor, relations, fmt, annee_param, partial=False):
    """The download (``fmt``: "pdf" or "csv"), or 400 for a bad year."""
    try:
        annee = parse_year(annee_param)
    except ValueError:
        return HttpResponseBadRequest("Année invalide : indiquez une année, par exemple 2026.")
    releve = build(mentor, relations, annee, partial)
    if fmt == "pdf":
        answer = HttpResponse(to_pdf(releve), content_type="application/pdf")
    else:
        answer = HttpResponse(to_csv(releve), content_type=CSV_CONTENT_TYPE)
    answer["Content-Disposition"] = content_disposition_header(True, releve.filename(fmt))
    return answer


def years_of(relations):
    """The years a mentor's relations (already loaded) cover, latest first: the links
    of the portal, without a query."""
    current = timezone.localdate().year
    years = set()
    for mentorat in relations:
        if mentorat.statut not in COUNTED:
            continue
        end = min((mentorat.date_fin or mentorat.date_fin_prevue).year, current)
        years.update(range(mentorat.date_debut.year, end + 1))
    return sorted(years, reverse=True)
