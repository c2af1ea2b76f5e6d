"""Coaching rules: assignment (capacity, conflicts), workflow, suggestions, sessions.

Admin, portal and tasks all go through these functions.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accompagnement.models import Demande
from accompagnement.services import outbox
from accompagnement.services.evaluations import request_evaluations
from accompagnement.workflow import check_step

from .models import Coach, Coaching, SeanceCoaching

# Which coaching motif a request's context calls for.
MOTIF_FOR_CONTEXTE = {
    Demande.Contexte.PRISE_DE_POSTE: Coaching.Motif.PRISE_DE_POSTE,
    Demande.Contexte.DIFFICULTE: Coaching.Motif.DIFFICULTE,
    Demande.Contexte.TRANSFORMATION: Coaching.Motif.TRANSFORMATION,
    Demande.Contexte.DEBOUCHE: Coaching.Motif.DEBOUCHE,
}


def create_from_demande(demande, by):
    """Registry hook: an accepted coaching request opens an engagement to assign."""
    return Coaching.objects.create(
        cadre=demande.cadre,
        demande=demande,
        origine=(
            Coaching.Origine.CADRE
            if demande.origine == Demande.Origine.CADRE
            else Coaching.Origine.ADMINISTRATION
        ),
        motif=MOTIF_FOR_CONTEXTE.get(demande.contexte, Coaching.Motif.PRISE_DE_POSTE),
        date_debut=demande.date_debut_souhaitee,
    )


# --- Assignment ----------------------------------------------------------------


def same_line(coach, cadre):
    """An internal coach in the cadre's own line: one structure contains the other."""
    if coach.type != Coach.Type.INTERNE or coach.structure_id is None:
        return False
    a, b = coach.structure.chemin, cadre.structure.chemin
    return a.startswith(b) or b.startswith(a)


def check_assignment(coaching, coach):
    """Raise a French ValidationError if ``coach`` may not take ``coaching``."""
    if not coach.actif:
        raise ValidationError({"coach": f"{coach} est inactif : il ne peut pas être affecté."})
    if same_line(coach, coaching.cadre):
        raise ValidationError(
            {
                "coach": f"{coach} travaille dans la ligne hiérarchique de {coaching.cadre} "
                "(même structure ou structure parente) : choisissez un autre coach."
            }
        )
    load = (
        Coaching.objects.filter(coach=coach, statut__in=Coaching.ACTIVE_STATUSES)
        .exclude(pk=coaching.pk)
        .count()
    )
    if load >= coach.capacite:
        raise ValidationError(
            {
                "coach": f"{coach} accompagne déjà {load} cadre(s) pour une capacité de "
                f"{coach.capacite} : affectation refusée."
            }
        )


@transaction.atomic
def assign(coaching, coach, by=None):
    """Give the engagement to a coach and contract it. The coach's row is locked so
    that two délégués cannot both take their last free slot."""
    # ``of=("self",)``: lock only these rows. Without it PostgreSQL refuses the lock on
    # the outer join to an external coach's (null) structure, and would lock the
    # cadre's structure row too.
    coach = (
        Coach.objects.select_for_update(of=("self",)).select_related("structure").get(pk=coach.pk)
    )
    coaching = (
        Coaching.objects.select_for_update(of=("self",))
        .select_related("cadre__structure")
        .get(pk=coaching.pk)
    )
    if coaching.statut not in (Coaching.Statut.A_AFFECTER, Coaching.Statut.CONTRACTUALISE):
        raise ValidationError(
            {"coach": "Le coach d'un coaching en cours ou clos ne peut plus être changé."}
        )
    check_assignment(coaching, coach)
    coaching.coach = coach
    coaching.statut = Coaching.Statut.CONTRACTUALISE
    coaching.save(update_fields=["coach", "statut"])
    if coach.user_id:
        outbox.notify("coaching_affecte", coaching, user=coach.user)
    return coaching


# --- Workflow ------------------------------------------------------------------


def check_transition(coaching, statut, reunion_cloture_le=None):
    current = Coaching.Statut(coaching.statut)
    if not check_step(Coaching.TRANSITIONS, current, statut, "Un coaching"):
        return
    if statut == Coaching.Statut.CONTRACTUALISE:
        if not coaching.coach_id:
            raise ValidationError({"statut": "Affectez un coach avant de contractualiser."})
        # A coach written on the engagement beforehand: same rules as ``assign``.
        check_assignment(coaching, coaching.coach)
    if statut == Coaching.Statut.TERMINE and not (
        reunion_cloture_le or coaching.reunion_cloture_le
    ):
        raise ValidationError(
            {
                "reunion_cloture_le": "Un coaching se termine par une réunion tripartite de "
                "clôture : indiquez sa date."
            }
        )


@transaction.atomic
def change_status(coaching, statut, by=None, reunion_cloture_le=None):
    if statut == Coaching.Statut.CONTRACTUALISE:
        # As in ``assign`` (and in its order, coach then coaching): the coach's row is
        # locked while their load is counted.
        coach_id = Coaching.objects.filter(pk=coaching.pk).values_list("coach_id", flat=True)
        list(Coach.objects.select_for_update(of=("self",)).filter(pk__in=coach_id))
    coaching = Coaching.objects.select_for_update().get(pk=coaching.pk)
    check_transition(coaching, statut, reunion_cloture_le)
    if statut == coaching.statut:
        return coaching
    coaching.statut = statut
    if reunion_cloture_le:
        coaching.reunion_cloture_le = reunion_cloture_le
    if statut in (Coaching.Statut.TERMINE, Coaching.Statut.INTERROMPU) and not coaching.date_fin:
        coaching.date_fin = timezone.localdate()
    coaching.save()
    if statut == Coaching.Statut.TERMINE:
        participants = [
            u for u in (coaching.cadre.user, getattr(coaching.coach, "user", None)) if u
        ]
        request_evaluations(
            coaching, dispositif="coaching", cadre=coaching.cadre, participants=participants
        )
    if statut in (Coaching.Statut.TERMINE, Coaching.Statut.INTERROMPU):
        for seance in coaching.seances.filter(
            statut=SeanceCoaching.Statut.PLANIFIEE, debut__gt=timezone.now()
        ):
            seance.statut = SeanceCoaching.Statut.ANNULEE
            seance.save()
    return coaching


# --- Suggestions ---------------------------------------------------------------


@dataclass
class Suggestion:
    coach: Coach
    score: int
    reasons: list = field(default_factory=list)


def suggest(coaching, limit=5):
    """Rank the coaches who may take this engagement, best first, each with the
    reasons of its score. Coaches who may not (inactive, full, same line) are left out."""
    coaches = (
        Coach.objects.filter(actif=True)
        .with_load()
        .select_related("structure")
        .prefetch_related("specialites", "certifications")
    )
    suggestions = []
    for coach in coaches:
        free = coach.capacite - coach.charge
        if free <= 0 or same_line(coach, coaching.cadre):
            continue
        score, reasons = 0, []
        if any(s.code == coaching.motif for s in coach.specialites.all()):
            score += 3
            reasons.append(f"spécialité « {coaching.get_motif_display().lower()} » (+3)")
        bonus = min(free, 3)
        score += bonus
        reasons.append(f"{free} place(s) libre(s) sur {coach.capacite} (+{bonus})")
        today = timezone.localdate()
        valid = [c for c in coach.certifications.all() if not c.expire_le or c.expire_le >= today]
        if valid:
            score += 1
            reasons.append(
                f"certifié {', '.join(f'{c.organisme.upper()} {c.niveau}' for c in valid)} (+1)"
            )
        if coach.type == Coach.Type.INTERNE:
            reasons.append("coach interne, hors de la ligne hiérarchique du cadre")
        suggestions.append(Suggestion(coach, score, reasons))
    suggestions.sort(key=lambda s: (-s.score, s.coach.nom, s.coach.pk))
    return suggestions[:limit]


# --- Sessions ------------------------------------------------------------------


@transaction.atomic
def schedule(coaching, *, debut, duree=60, mode, lieu="", lien_visio="", by=None):
    coaching = Coaching.objects.select_for_update().get(pk=coaching.pk)
    if coaching.statut not in Coaching.ACTIVE_STATUSES:
        raise ValidationError(
            "Des séances ne se planifient que pour un coaching contractualisé ou en cours."
        )
    if debut <= timezone.now():
        raise ValidationError({"debut": "La séance doit être planifiée dans le futur."})
    counted = coaching.seances.exclude(statut=SeanceCoaching.Statut.ANNULEE).count()
    if counted >= coaching.nb_seances_prevues:
        raise ValidationError(
            f"Les {coaching.nb_seances_prevues} séances prévues sont toutes planifiées ou "
            "réalisées : aucune séance supplémentaire n'est possible."
        )
    numero = (coaching.seances.aggregate(m=Max("numero"))["m"] or 0) + 1
    seance = SeanceCoaching(
        coaching=coaching,
        numero=numero,
        debut=debut,
        duree=duree,
        mode=mode,
        lieu=lieu,
        lien_visio=lien_visio,
    )
    seance.full_clean()
    seance.save()
    return seance


@transaction.atomic
def mark(seance, statut, debut=None):
    """The coach records what happened: held, cancelled, or postponed to a new time."""
    seance = SeanceCoaching.objects.select_for_update().select_related("coaching").get(pk=seance.pk)
    if seance.statut != SeanceCoaching.Statut.PLANIFIEE:
        # A cancelled session brought back would escape the allowance; a held one
        # would rewrite attendance.
        raise ValidationError(
            "Seule une séance planifiée peut être marquée réalisée, annulée ou reportée."
        )
    if statut == SeanceCoaching.Statut.REALISEE and seance.debut > timezone.now():
        raise ValidationError("Une séance ne peut pas être réalisée avant d'avoir eu lieu.")
    if statut == SeanceCoaching.Statut.REPORTEE:
        if debut is None or debut <= timezone.now():
            raise ValidationError({"debut": "Indiquez la nouvelle date, dans le futur."})
        # The same session moves: its reminders and calendar entry follow.
        seance.debut = debut
        seance.statut = SeanceCoaching.Statut.PLANIFIEE
        seance.report_demande_le = None
        seance.report_motif = ""
    else:
        seance.statut = statut
    seance.save()
    if (
        statut == SeanceCoaching.Statut.REALISEE
        and seance.coaching.statut == Coaching.Statut.CONTRACTUALISE
    ):
        Coaching.objects.filter(pk=seance.coaching_id).update(statut=Coaching.Statut.EN_COURS)
    return seance


@transaction.atomic
def ask_postponement(seance, motif, by):
    """The cadre asks the coach to move a session; the coach is told by mail."""
    if seance.statut != SeanceCoaching.Statut.PLANIFIEE or seance.debut <= timezone.now():
        raise ValidationError("Seule une séance planifiée à venir peut être reportée.")
    if not motif.strip():
        raise ValidationError({"report_motif": "Indiquez pourquoi vous demandez un report."})
    seance.report_demande_le = timezone.now()
    seance.report_motif = motif.strip()[:255]
    # Asking is not yet a change of the session: no new sequence, reminders unchanged.
    SeanceCoaching.objects.filter(pk=seance.pk).update(
        report_demande_le=seance.report_demande_le, report_motif=seance.report_motif
    )
    coach_user = seance.coaching.coach.user if seance.coaching.coach_id else None
    if coach_user:
        outbox.notify(
            "coaching_report_demande",
            seance,
            user=coach_user,
            reference_at=seance.report_demande_le,
        )
    return seance
