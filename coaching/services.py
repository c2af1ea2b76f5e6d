"""Coaching rules: assignment (capacity, conflicts), workflow, suggestions, sessions.

Admin, portal and tasks all go through these functions.
"""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accompagnement.models import Demande
from accompagnement.services import outbox
from accompagnement.services.evaluations import request_evaluations
from accompagnement.workflow import check_step
from cadres.models import Role, User
from cadres.perimeter import delegues_for

from .models import (
    MAX_SEANCES,
    MAX_SHORTLIST,
    MIN_SHORTLIST,
    Certification,
    Coach,
    Coaching,
    EntretienDecouverte,
    ExtensionForfait,
    Preselection,
    Proposition,
    SeanceCoaching,
)

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


def check_register(coach, action="affecté", today=None):
    """Raise a French ValidationError if the coach register forbids ``coach`` (inactive,
    no valid accreditation, charter not signed). ``action``: "affecté", "présélectionné"."""
    reasons = coach.ineligibility_reasons(today)
    if reasons:
        raise ValidationError(
            {
                "coach": [
                    f"{reason[0].upper()}{reason[1:]} : ce coach ne peut pas être {action}."
                    for reason in reasons
                ]
            }
        )


def check_assignment(coaching, coach, action="affecté"):
    """Raise a French ValidationError if ``coach`` may not take ``coaching``."""
    check_register(coach, action)
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
def assign(coaching, coach, by=None, preselection=None):
    """Give the engagement to a coach and contract it. The coach's row is locked so
    that two délégués cannot both take their last free slot. While a shortlist is
    open, only its confirmation (``preselection``) assigns."""
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
    if preselection is None:
        check_no_open_shortlist(coaching)
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
    if statut == Coaching.Statut.INTERROMPU:
        for preselection in Preselection.objects.open().filter(coaching=coaching):
            withdraw_shortlist(preselection, "Coaching interrompu.", by=by)
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
    reasons of its score. Coaches who may not (barred by the register, full, same line)
    are left out."""
    coaches = (
        Coach.objects.eligible()
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
        # Every eligible coach holds a valid accreditation: shown, not scored.
        today = timezone.localdate()
        valid = [c for c in coach.certifications.all() if c.is_valid(today)]
        reasons.append(f"accrédité {', '.join(c.label for c in valid)}")
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
    if coaching.allowance().restantes <= 0:
        raise ValidationError(
            f"Les {coaching.nb_seances_prevues} séances du forfait sont toutes utilisées "
            "(réalisées ou planifiées) : une séance de plus demande que le délégué prolonge "
            "le forfait."
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
def extend_allowance(coaching, nouveau_total, motif, by=None):
    """A délégué extends the allowance of a running engagement, with the reason and
    the new total; the allowance never shrinks on the record."""
    coaching = Coaching.objects.select_for_update().get(pk=coaching.pk)
    if coaching.statut not in Coaching.ACTIVE_STATUSES:
        raise ValidationError(
            "Seul le forfait d'un coaching contractualisé ou en cours se prolonge."
        )
    errors = {}
    if nouveau_total is None or nouveau_total <= coaching.nb_seances_prevues:
        errors["nouveau_total"] = (
            f"Le nouveau total doit dépasser les {coaching.nb_seances_prevues} séances du "
            "forfait actuel."
        )
    elif nouveau_total > MAX_SEANCES:
        errors["nouveau_total"] = f"Un coaching compte au plus {MAX_SEANCES} séances."
    if not (motif or "").strip():
        errors["motif"] = "Indiquez la raison de la prolongation."
    if errors:
        raise ValidationError(errors)
    extension = ExtensionForfait.objects.create(
        coaching=coaching,
        ancien_total=coaching.nb_seances_prevues,
        nouveau_total=nouveau_total,
        motif=motif.strip(),
        accordee_par=by,
    )
    coaching.nb_seances_prevues = nouveau_total
    coaching.save(update_fields=["nb_seances_prevues"])
    return extension


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


# --- Coach register -------------------------------------------------------------

ACCREDITATION_EXPIRING = "coaching_accreditation_expire"


def delegues_of_coach(coach, _all=None):
    """Délégués who answer for a coach: for an internal coach, those whose perimeter
    covers their structure; an external coach is in the pool every délégué shares
    (the coach admin is not narrowed to a perimeter), so every délégué."""
    if coach.structure_id:
        return delegues_for(coach.structure)
    if _all is None:
        _all = list(
            User.objects.filter(is_active=True, roles__kind=Role.Kind.DELEGUE)
            .distinct()
            .order_by("pk")
        )
    return _all


def remind_expiring_accreditations(today=None):
    """Daily (beat): tell the délégués about the accreditations of active coaches that
    expire within EXPIRY_WARNING_DAYS. The outbox key (accreditation, délégué, expiry
    date) makes it exactly once; a renewed accreditation with a new date that comes
    close again is a new reminder. Returns the number of accreditations concerned."""
    today = today or timezone.localdate()
    accreditations = (
        Certification.objects.expiring(today)
        .filter(coach__actif=True)
        .select_related("coach__structure")
        .order_by("expire_le", "pk")
    )
    everyone = None
    count = 0
    for accreditation in accreditations:
        coach = accreditation.coach
        if coach.structure_id is None and everyone is None:
            everyone = delegues_of_coach(coach)
        reference = timezone.make_aware(datetime.combine(accreditation.expire_le, time()))
        with transaction.atomic():
            for user in delegues_of_coach(coach, everyone):
                outbox.notify(
                    ACCREDITATION_EXPIRING, accreditation, user=user, reference_at=reference
                )
        count += 1
    return count


# --- Shortlist and discovery meetings ---------------------------------------------


def check_no_open_shortlist(coaching):
    """A coach chosen with the cadre is not overridden by a direct assignment."""
    if Preselection.objects.open().filter(coaching=coaching).exists():
        raise ValidationError(
            {
                "coach": "Une présélection de coachs est en cours avec le cadre : confirmez "
                "son choix ou retirez la présélection avant d'affecter un autre coach."
            }
        )


def _step(preselection, statut):
    """The shortlist's workflow: one table (``Preselection.TRANSITIONS``), one message."""
    current = Preselection.Statut(preselection.statut)
    if statut == current:
        raise ValidationError(f"Cette présélection est déjà au statut « {current.label.lower()} ».")
    check_step(Preselection.TRANSITIONS, current, statut, "Une présélection")


def _lock_preselection(preselection):
    return (
        Preselection.objects.select_for_update(of=("self",))
        .select_related("coaching__cadre__user", "coaching__cadre__structure", "proposee_par")
        .get(pk=preselection.pk)
    )


def _delegues_to_tell(preselection):
    """The délégué who proposed the shortlist, else those of the cadre's perimeter."""
    if preselection.proposee_par_id and preselection.proposee_par.is_active:
        return [preselection.proposee_par]
    return delegues_for(preselection.coaching.cadre.structure)


def _release(preselection, keep=None, now=None):
    """Release every coach of the list but ``keep``: their meetings to come are
    cancelled (the session machinery tells both sides) and they are told."""
    now = now or timezone.now()
    propositions = preselection.propositions.filter(liberee_le__isnull=True).select_related(
        "coach__user"
    )
    if keep is not None:
        propositions = propositions.exclude(coach=keep)
    for proposition in propositions:
        for entretien in proposition.entretiens.filter(
            statut=EntretienDecouverte.Statut.PLANIFIEE, debut__gt=now
        ):
            entretien.statut = EntretienDecouverte.Statut.ANNULEE
            entretien.save()
        proposition.liberee_le = now
        proposition.save(update_fields=["liberee_le"])
        if proposition.coach.user_id:
            outbox.notify("coaching_preselection_liberee", proposition, user=proposition.coach.user)


def _close(preselection, statut, by, keep=None, **motif):
    """The list ends (``statut``, with its reason field if any): who closed it and
    when, and every coach but ``keep`` released."""
    now = timezone.now()
    preselection.statut = statut
    for name, text in motif.items():
        setattr(preselection, name, text.strip())
    preselection.cloturee_par, preselection.cloturee_le = by, now
    preselection.save()
    _release(preselection, keep=keep, now=now)


@transaction.atomic
def propose_shortlist(coaching, coaches, by=None):
    """The délégué shortlists two or three coaches for an engagement still to assign.
    Each must be one the engagement could be given to (register, line, capacity); a
    coach the cadre already declined with a whole list is not proposed again."""
    coaching = (
        Coaching.objects.select_for_update(of=("self",))
        .select_related("cadre__structure", "cadre__user")
        .get(pk=coaching.pk)
    )
    if coaching.statut != Coaching.Statut.A_AFFECTER:
        raise ValidationError(
            {"coachs": "Une présélection se propose avant la contractualisation du coaching."}
        )
    if Preselection.objects.open().filter(coaching=coaching).exists():
        raise ValidationError(
            {"coachs": "Une présélection est déjà en cours pour ce coaching : retirez-la d'abord."}
        )
    coaches = list(dict.fromkeys(coaches))
    if not MIN_SHORTLIST <= len(coaches) <= MAX_SHORTLIST:
        raise ValidationError(
            {
                "coachs": f"Présélectionnez {MIN_SHORTLIST} ou {MAX_SHORTLIST} coachs "
                f"({len(coaches)} choisi(s))."
            }
        )
    declined = set(
        Proposition.objects.filter(
            preselection__coaching=coaching,
            preselection__statut=Preselection.Statut.NOUVELLE_DEMANDEE,
        ).values_list("coach_id", flat=True)
    )
    errors = []
    locked = Coach.objects.select_for_update(of=("self",)).select_related("structure")
    for coach in locked.filter(pk__in=[c.pk for c in coaches]).order_by("nom", "prenom", "pk"):
        if coach.pk in declined:
            errors.append(
                f"{coach} a déjà été proposé à {coaching.cadre}, qui a demandé une autre "
                "présélection : proposez un autre coach."
            )
            continue
        try:
            check_assignment(coaching, coach, action="présélectionné")
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"coachs": errors})
    preselection = Preselection.objects.create(coaching=coaching, proposee_par=by)
    Proposition.objects.bulk_create(
        Proposition(preselection=preselection, coach=coach) for coach in coaches
    )
    if coaching.cadre.user_id:
        outbox.notify("coaching_preselection_proposee", preselection, user=coaching.cadre.user)
    return preselection


@transaction.atomic
def book_meeting(proposition, *, debut, mode, lieu="", lien_visio="", by=None):
    """The cadre books a 30-minute discovery meeting with a shortlisted coach."""
    preselection = _lock_preselection(proposition.preselection)
    proposition = Proposition.objects.select_related("coach__user").get(pk=proposition.pk)
    if not preselection.cadre_may_act or proposition.liberee_le:
        raise ValidationError(
            "Cette présélection n'attend plus d'entretien : aucun rendez-vous ne peut être pris."
        )
    if debut <= timezone.now():
        raise ValidationError({"debut": "L'entretien doit avoir lieu dans le futur."})
    booked = proposition.entretiens.filter(
        statut=EntretienDecouverte.Statut.PLANIFIEE, debut__gt=timezone.now()
    ).first()
    if booked:
        raise ValidationError(
            f"Un entretien avec {proposition.coach} est déjà prévu le "
            f"{timezone.localtime(booked.debut):%d/%m/%Y à %H:%M} : annulez-le pour en "
            "prendre un autre."
        )
    entretien = EntretienDecouverte(
        proposition=proposition,
        debut=debut,
        duree=EntretienDecouverte.DUREE,
        mode=mode,
        lieu=lieu,
        lien_visio=lien_visio,
    )
    entretien.full_clean(exclude=["proposition"])
    entretien.save()
    if preselection.statut == Preselection.Statut.PROPOSEE:
        _step(preselection, Preselection.Statut.ENTRETIENS)
        preselection.statut = Preselection.Statut.ENTRETIENS
        preselection.save(update_fields=["statut"])
    if proposition.coach.user_id:
        outbox.notify("coaching_entretien_reserve", entretien, user=proposition.coach.user)
    return entretien


@transaction.atomic
def cancel_meeting(entretien, by=None):
    entretien = EntretienDecouverte.objects.select_for_update(of=("self",)).get(pk=entretien.pk)
    if (
        entretien.statut != EntretienDecouverte.Statut.PLANIFIEE
        or entretien.debut <= timezone.now()
    ):
        raise ValidationError("Seul un entretien planifié à venir peut être annulé.")
    entretien.statut = EntretienDecouverte.Statut.ANNULEE
    entretien.save()  # cancellations (with their .ics) to both sides
    return entretien


@transaction.atomic
def choose(preselection, coach, motif, by=None):
    """The cadre states which shortlisted coach fits, and why; the délégué is told."""
    preselection = _lock_preselection(preselection)
    _step(preselection, Preselection.Statut.CHOIX)
    if not preselection.propositions.filter(coach=coach, liberee_le__isnull=True).exists():
        raise ValidationError({"coach": "Choisissez l'un des coachs de votre présélection."})
    # The register may have changed since the shortlist (an accreditation expired, a
    # coach made inactive): the cadre learns it now, not at the délégué's confirmation.
    check_register(coach, "choisi")
    if not (motif or "").strip():
        raise ValidationError({"motif": "Dites en quelques mots pourquoi ce coach vous convient."})
    preselection.statut = Preselection.Statut.CHOIX
    preselection.coach_choisi = coach
    preselection.motif_choix = motif.strip()
    preselection.choisie_le = timezone.now()
    preselection.save()
    for user in _delegues_to_tell(preselection):
        outbox.notify("coaching_preselection_choix", preselection, user=user)
    return preselection


@transaction.atomic
def ask_new_shortlist(preselection, motif, by=None):
    """The cadre declines every coach of the list and asks for another one."""
    preselection = _lock_preselection(preselection)
    _step(preselection, Preselection.Statut.NOUVELLE_DEMANDEE)
    if not (motif or "").strip():
        raise ValidationError(
            {
                "motif": "Dites pourquoi aucun de ces coachs ne vous convient : cela aide "
                "votre délégué à vous en proposer d'autres."
            }
        )
    _close(preselection, Preselection.Statut.NOUVELLE_DEMANDEE, by, motif_nouvelle=motif)
    for user in _delegues_to_tell(preselection):
        outbox.notify("coaching_preselection_nouvelle", preselection, user=user)
    return preselection


@transaction.atomic
def confirm_choice(preselection, by=None):
    """The délégué confirms the cadre's choice: the coach is assigned (every rule of
    ``assign`` again: the register, the line, capacity), the others released."""
    preselection = _lock_preselection(preselection)
    _step(preselection, Preselection.Statut.CONFIRMEE)
    coach = preselection.coach_choisi
    assign(preselection.coaching, coach, by=by, preselection=preselection)
    _close(preselection, Preselection.Statut.CONFIRMEE, by, keep=coach)
    if preselection.coaching.cadre.user_id:
        outbox.notify(
            "coaching_preselection_confirmee", preselection, user=preselection.coaching.cadre.user
        )
    return preselection


@transaction.atomic
def withdraw_shortlist(preselection, motif, by=None):
    """The délégué withdraws an open list (a coach no longer available, the
    engagement interrupted...): every coach is released."""
    preselection = _lock_preselection(preselection)
    _step(preselection, Preselection.Statut.RETIREE)
    if not (motif or "").strip():
        raise ValidationError({"motif": "Indiquez pourquoi la présélection est retirée."})
    _close(preselection, Preselection.Statut.RETIREE, by, motif_retrait=motif)
    return preselection
