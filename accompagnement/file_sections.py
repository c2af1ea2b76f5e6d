"""What a scheme puts in the cadre's file (``parcours``): the shapes its ``dossier``
hook returns (``Scheme.dossier``) and the helpers the four schemes share to fill them.
Never any content: no notes, no text of a séance, no answer to an evaluation."""

from dataclasses import dataclass, field
from datetime import date, datetime

# Session.Statut values, by the SessionCounts field they count in.
_COUNTED = {
    "realisees": "realisee",
    "planifiees": "planifiee",
    "annulees": "annulee",
    "reportees": "reportee",
}


def _dispositif_label(code):
    from .models import Dispositif

    return Dispositif(code).label if code in Dispositif.values else ""


def as_date(value):
    """A day for the timeline: a moment is taken in local time."""
    from django.utils import timezone

    return timezone.localtime(value).date() if isinstance(value, datetime) else value


def period(start, end=None, planned_end=None):
    """« du 03/02/2026 au 30/06/2026 », « à partir du 03/02/2026 (fin prévue le …) »."""
    if start is None:
        return ""
    if end is not None:
        return f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}"
    if planned_end is not None:
        return f"à partir du {start:%d/%m/%Y} (fin prévue le {planned_end:%d/%m/%Y})"
    return f"à partir du {start:%d/%m/%Y}"


@dataclass(frozen=True)
class SessionCounts:
    """Sessions of a programme by status, as the cadre's file shows them."""

    realisees: int = 0
    planifiees: int = 0
    annulees: int = 0
    reportees: int = 0

    @classmethod
    def of(cls, statuts):
        """Counted from a list of Session.Statut values."""
        statuts = list(statuts)
        return cls(**{name: statuts.count(statut) for name, statut in _COUNTED.items()})


def session_count_annotations(sessions):
    """``annotate()`` arguments counting the sessions reached by the relation
    ``sessions`` (``"seances"``, ``"rencontres"``) by status, in the same query."""
    from django.db.models import Count, Q

    return {
        f"nb_{name}": Count(sessions, filter=Q(**{f"{sessions}__statut": statut}), distinct=True)
        for name, statut in _COUNTED.items()
    }


def session_counts(obj):
    """The SessionCounts of an object annotated by ``session_count_annotations``."""
    return SessionCounts(**{name: getattr(obj, f"nb_{name}") for name in _COUNTED})


@dataclass(frozen=True)
class Step:
    """A dated step of a person's journey (the timeline of their file)."""

    date: date
    dispositif: str
    libelle: str
    detail: str = ""

    @property
    def dispositif_label(self):
        return _dispositif_label(self.dispositif)


@dataclass(frozen=True)
class Programme:
    """A programme of the cadre's file: who with, its status and its figures. Never
    any content: no notes, no text of a séance, no answer to an evaluation."""

    dispositif: str
    titre: str
    statut: str = ""
    periode: str = ""
    seances: SessionCounts | None = None
    # Further (label, value) figures: allowance, attendance, days...
    chiffres: tuple = ()


@dataclass(frozen=True)
class FileSection:
    """What a scheme puts in the cadre's file: its programmes, its dated steps and its
    own figures ((label, value) pairs, such as the immersion days left)."""

    dispositif: str
    programmes: list = field(default_factory=list)
    etapes: list = field(default_factory=list)
    chiffres: tuple = ()

    @property
    def dispositif_label(self):
        return _dispositif_label(self.dispositif)
