"""The cadre's file: their whole journey across the schemes, in time order.

``build(cadre)`` gathers the requests (with the decision's delay), the evaluations the
cadre gave (dates only), the documents of the file, the talent pools, and what each
scheme registers for the file (``registry.Scheme.dossier``), in a constant number of
queries whatever the history. Confidential content is never read: no coaching note,
no mentoring private note, nothing said in a co-development group, no evaluation
answer (``Evaluation`` is read through ``only()``).
"""

from dataclasses import dataclass, field
from operator import attrgetter

from accompagnement import registry
from accompagnement.file_sections import Step, as_date
from accompagnement.models import Demande, Evaluation
from cadres.models import Cadre

from .models import DocumentParcours


@dataclass
class DemandeRow:
    demande: Demande
    recue_le: object  # date
    decidee_le: object  # date or None
    delai: int  # days to decide, or waited so far


@dataclass
class Dossier:
    cadre: Cadre
    etapes: list = field(default_factory=list)  # the timeline, oldest first
    sections: list = field(default_factory=list)  # one file_sections.FileSection per scheme
    demandes: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    viviers: list = field(default_factory=list)
    cohortes: list = field(default_factory=list)  # MembreCohorte, with their cohort


def _demandes(cadre):
    rows, etapes = [], []
    for demande in Demande.objects.filter(cadre=cadre).order_by("recue_le", "pk"):
        label = demande.get_dispositif_display().lower()
        row = DemandeRow(
            demande=demande,
            recue_le=as_date(demande.recue_le),
            decidee_le=as_date(demande.decidee_le) if demande.decidee_le else None,
            delai=demande.delai_decision,
        )
        rows.append(row)
        if row.decidee_le:
            waited = f"décidée le {row.decidee_le:%d/%m/%Y}"
        else:
            waited = f"décision attendue avant le {demande.echeance:%d/%m/%Y}"
        etapes.append(
            Step(
                row.recue_le,
                demande.dispositif,
                f"Demande de {label} ({demande.get_contexte_display().lower()})",
                f"{demande.get_statut_display()}, {waited}",
            )
        )
        if row.decidee_le:
            etapes.append(
                Step(
                    row.decidee_le,
                    demande.dispositif,
                    f"Décision sur la demande de {label} : {demande.get_statut_display().lower()}",
                    f"en {row.delai} jour(s)",
                )
            )
    return rows, etapes


def _evaluations(cadre):
    """The evaluations the cadre was asked for: when asked and answered, not what."""
    if not cadre.user_id:
        return [], []
    evaluations = list(
        Evaluation.objects.filter(participant_id=cadre.user_id)
        .only("dispositif", "demandee_le", "remplie_le")
        .order_by("demandee_le", "pk")
    )
    etapes = [
        Step(
            as_date(e.remplie_le),
            e.dispositif,
            f"Évaluation de fin d'accompagnement ({e.get_dispositif_display().lower()}) remplie",
        )
        for e in evaluations
        if e.remplie_le
    ]
    return evaluations, etapes


def _documents(cadre):
    documents = list(
        DocumentParcours.objects.filter(cadre=cadre)
        .defer("contenu")
        .select_related("ajoute_par")
        .order_by("date", "pk")
    )
    etapes = [Step(d.date, "", d.get_nature_display(), d.reference) for d in documents]
    return documents, etapes


def _cohortes(cadre):
    """The cohort programmes the cadre belongs to, and the rights they open."""
    from cohortes.models import MembreCohorte

    memberships = list(
        MembreCohorte.objects.filter(cadre=cadre)
        .select_related("cohorte__structure")
        .order_by("cohorte__date_debut", "pk")
    )
    etapes = [
        Step(
            m.cohorte.date_debut,
            "",
            f"Programme de cohorte « {m.cohorte.nom} »",
            f"jusqu'au {m.cohorte.date_fin:%d/%m/%Y}",
        )
        for m in memberships
    ]
    return memberships, etapes


def build(cadre) -> Dossier:
    dossier = Dossier(cadre=cadre, viviers=list(cadre.viviers.all()))
    dossier.demandes, etapes = _demandes(cadre)
    dossier.evaluations, more = _evaluations(cadre)
    etapes += more
    dossier.documents, more = _documents(cadre)
    etapes += more
    dossier.cohortes, more = _cohortes(cadre)
    etapes += more
    for scheme in registry.all_schemes():
        if scheme.dossier is not None:
            section = scheme.dossier(cadre)
            dossier.sections.append(section)
            etapes += section.etapes
    dossier.etapes = sorted(etapes, key=attrgetter("date"))  # oldest first, stable
    return dossier
