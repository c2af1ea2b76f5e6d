"""Mentoring rules: the waiting list, campaigns (compute, review, confirm), the
relation's workflow, meetings and their private notes, silence reminders.

Admin, portal and tasks all go through these functions.
"""

import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as dt_time

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from accompagnement.models import Demande, Mode, Session
from accompagnement.services import outbox
from accompagnement.services.evaluations import request_evaluations
from accompagnement.workflow import check_step
from cadres.models import Cadre, Invitation, Role, Structure, User
from cadres.perimeter import delegues_for
from cadres.services import account_for, grant_role, invite

from . import matching
from .models import (
    Campagne,
    Mentor,
    Mentorat,
    Mentore,
    NonApparie,
    NotePrivee,
    Offre,
    PointEtape,
    Proposition,
    Rencontre,
)

# A relation without a held meeting for this long is flagged and both sides reminded.
SILENCE = timedelta(weeks=8)
MIN_MONTHS, MAX_MONTHS = 6, 12

CONTEXTE_FOR_DEMANDE = {
    Demande.Contexte.PRISE_DE_POSTE: Mentore.Contexte.PRISE_DE_POSTE,
    Demande.Contexte.CYCLE: Mentore.Contexte.CYCLE,
    Demande.Contexte.VIVIER: Mentore.Contexte.VIVIER,
}


def weights():
    """The score's weights from the settings, checked: a negative weight, or a
    "accompagnement" weight not above all the others together, would let the engine
    leave a mentee out for a better-scoring pair."""
    w = {**matching.DEFAULT_WEIGHTS, **getattr(settings, "MENTORAT_MATCHING_WEIGHTS", {})}
    if any(value < 0 for value in w.values()):
        raise ImproperlyConfigured("MENTORAT_MATCHING_WEIGHTS : un poids est négatif.")
    others = (
        w["expertise"] * w["expertise_max"]
        + w["experience"] * w["experience_max"]
        + w["souhait"]
        + w["meme_ville"]
    )
    if w["accompagnement"] <= others:
        raise ImproperlyConfigured(
            "MENTORAT_MATCHING_WEIGHTS : le poids « accompagnement » doit dépasser la somme "
            f"des autres critères ({others})."
        )
    return w


# --- Waiting list --------------------------------------------------------------


@transaction.atomic
def create_from_demande(demande, by=None):
    """Registry hook: an accepted mentoring request puts the cadre on the waiting list."""
    mentore, _ = Mentore.objects.select_for_update().get_or_create(
        cadre=demande.cadre,
        defaults={"contexte": CONTEXTE_FOR_DEMANDE.get(demande.contexte, Mentore.Contexte.CYCLE)},
    )
    mentore.demande = demande
    mentore.contexte = CONTEXTE_FOR_DEMANDE.get(demande.contexte, mentore.contexte)
    if not mentore.objectifs:
        mentore.objectifs = demande.motivation
    _back_on_list(mentore)
    mentore.save()
    return mentore


@transaction.atomic
def enlist(cadre, contexte):
    """A cohort programme puts its member on the waiting list, as an accepted request
    would (a member already waiting keeps their place, one in a relation stays in it)."""
    mentore, created = Mentore.objects.select_for_update().get_or_create(
        cadre=cadre, defaults={"contexte": contexte}
    )
    if not created:
        mentore.contexte = contexte
        _back_on_list(mentore)
        mentore.save()
    return mentore


def _back_on_list(mentore):
    """Back on the list (retired, or a past relation over); one already waiting keeps
    their place in the queue."""
    if mentore.statut == Mentore.Statut.RETIRE or (
        mentore.statut != Mentore.Statut.EN_ATTENTE and not _holds_relation(mentore.cadre)
    ):
        mentore.statut = Mentore.Statut.EN_ATTENTE
        mentore.en_attente_depuis = timezone.now()
        mentore.motif_attente = ""


def _holds_relation(cadre):
    return Mentorat.objects.filter(mentore=cadre, statut__in=Mentorat.HOLDING_STATUSES).exists()


# --- Profiles for the engine -----------------------------------------------------


def _lineage(structure):
    return tuple(int(part) for part in structure.chemin.strip("/").split("/")) if structure else ()


def free_places(mentors):
    """{mentor id: places left}, from the relations that hold a place."""
    loads = dict(
        Mentorat.objects.filter(mentor__in=mentors, statut__in=Mentorat.HOLDING_STATUSES)
        .values("mentor")
        .annotate(n=Count("pk"))
        .values_list("mentor", "n")
    )
    return {m.pk: m.capacite - loads.get(m.pk, 0) for m in mentors}


class LineIndex:
    """Who is in whose hierarchical line, through the ``responsable`` links: built
    once per campaign, then asked for each mentee in constant time."""

    def __init__(self, mentors):
        self.managers_of = dict(
            Cadre.objects.filter(responsable__isnull=False).values_list("pk", "responsable_id")
        )
        self.mentor_of_cadre = {m.cadre_id: m.pk for m in mentors if m.cadre_id}
        # Mentors (by id) below each cadre in the line.
        self.mentors_below = {}
        for cadre_id, mentor_id in self.mentor_of_cadre.items():
            for manager in self.chain(cadre_id):
                self.mentors_below.setdefault(manager, set()).add(mentor_id)

    def chain(self, cadre_id):
        """The cadre's line managers, every level up (cycles guarded)."""
        chain, current = [], self.managers_of.get(cadre_id)
        while current and current not in chain:
            chain.append(current)
            current = self.managers_of.get(current)
        return chain

    def conflicts(self, cadre_id):
        """Mentor ids who are the cadre, one of their managers, or one of their staff."""
        line = set(self.mentors_below.get(cadre_id, ()))
        for cadre in [cadre_id, *self.chain(cadre_id)]:
            if cadre in self.mentor_of_cadre:
                line.add(self.mentor_of_cadre[cadre])
        return line


def tried_pairs(mentees):
    """{cadre id: mentor ids of an earlier relation or proposal}."""
    tried = {}
    for cadre_id, mentor_id in Mentorat.objects.filter(
        mentore__in=[m.cadre_id for m in mentees]
    ).values_list("mentore_id", "mentor_id"):
        tried.setdefault(cadre_id, set()).add(mentor_id)
    return tried


def mentor_profile(mentor, places):
    return matching.MentorProfile(
        key=mentor.pk,
        label=str(mentor),
        domaines=frozenset(d.libelle for d in mentor.domaines.all()),
        experience=mentor.annees_experience,
        ville=mentor.ville,
        lineage=_lineage(mentor.structure),
        capacity=places,
    )


def mentee_profile(mentore, lines, tried):
    cadre = mentore.cadre
    return matching.MenteeProfile(
        key=mentore.pk,
        label=str(cadre),
        domaines=frozenset(d.libelle for d in mentore.besoins.all()),
        experience=mentore.annees_experience,
        ville=mentore.ville,
        presentiel=mentore.mode_souhaite == Mode.PRESENTIEL,
        lineage=_lineage(cadre.structure),
        souhaites=frozenset(m.pk for m in mentore.mentors_souhaites.all()),
        exclus=frozenset(m.pk for m in mentore.mentors_exclus.all()),
        deja_essayes=frozenset(tried.get(cadre.pk, ())),
        ligne=frozenset(lines.conflicts(cadre.pk)),
    )


def profiles(mentees, mentors, places):
    lines, tried = LineIndex(mentors), tried_pairs(mentees)
    return (
        [mentee_profile(m, lines, tried) for m in mentees],
        [mentor_profile(m, places[m.pk]) for m in mentors],
    )


def _within(structures):
    condition = Q()
    for path in Structure.objects.filter(pk__in=structures).values_list("chemin", flat=True):
        condition |= Q(chemin__startswith=path)
    return Structure.objects.filter(condition) if condition else Structure.objects.none()


def campaign_pools(campagne):
    """Waiting mentees of the campaign's perimeter (of its cadres only, when it is
    reserved to some), and its available mentors (with a free place; those attached
    to no structure form a shared pool)."""
    perimeter = _within(campagne.structures.all())
    waiting = Mentore.objects.waiting().filter(cadre__structure__in=perimeter)
    if campagne.reservee_a.exists():  # a cohort programme's campaign
        waiting = waiting.filter(cadre__in=campagne.reservee_a.all())
    mentees = list(
        waiting.select_related("cadre__structure")
        .prefetch_related("besoins", "mentors_souhaites", "mentors_exclus")
        .order_by("en_attente_depuis", "pk")
    )
    mentors = list(
        Mentor.objects.available(campagne.date_debut)
        .filter(Q(structure__in=perimeter) | Q(structure__isnull=True))
        .select_related("structure")
        .prefetch_related("domaines")
        .order_by("pk")
    )
    places = free_places(mentors)
    mentors = [m for m in mentors if places[m.pk] > 0]
    return mentees, mentors, places


# --- Campaigns -------------------------------------------------------------------


def _check_editable(campagne):
    if campagne.statut == Campagne.Statut.CONFIRMEE:
        raise ValidationError("Cette campagne est confirmée : ses propositions sont envoyées.")


@transaction.atomic
def compute(campagne, by=None):
    """Run the engine on the campaign's perimeter and store its proposals for review.
    Nothing is sent."""
    campagne = Campagne.objects.select_for_update().get(pk=campagne.pk)
    _check_editable(campagne)
    mentees, mentors, places = campaign_pools(campagne)
    mentee_profiles, mentor_profiles = profiles(mentees, mentors, places)
    started = time.perf_counter()
    result = matching.solve(mentee_profiles, mentor_profiles, weights())
    elapsed = time.perf_counter() - started

    campagne.propositions.all().delete()
    campagne.non_apparies.all().delete()
    Proposition.objects.bulk_create(
        Proposition(
            campagne=campagne,
            mentore_id=p.mentee.key,
            mentor_id=p.mentor.key,
            score=p.score,
            criteres=[c.as_dict() for c in p.criteria],
        )
        for p in result.proposals
    )
    NonApparie.objects.bulk_create(
        NonApparie(campagne=campagne, mentore_id=u.mentee.key, motif=u.reason)
        for u in result.unmatched
    )
    campagne.statut = Campagne.Statut.CALCULEE
    campagne.calculee_le = timezone.now()
    campagne.nb_mentores, campagne.nb_mentors = len(mentees), len(mentors)
    campagne.score_optimal = result.total_score
    campagne.duree_calcul = round(elapsed, 3)
    campagne.save()
    return result


class PairChecker:
    """The hard rules of a campaign's pairs, loaded once (in a fixed number of
    queries) for all the pairs a review or a confirmation checks."""

    def __init__(self, campagne, mentees, mentors):
        self.campagne = campagne
        self.perimeter = set(_within(campagne.structures.all()).values_list("pk", flat=True))
        self.lines, self.tried = LineIndex(mentors), tried_pairs(mentees)
        self.places = free_places(mentors)
        self.taken = Counter(campagne.propositions.values_list("mentor_id", flat=True))

    def problem(self, mentore, mentor, proposition=None):
        """Why this mentor may not be proposed to this mentee, or None. ``proposition``
        is the one being checked or changed (its own place is not counted twice)."""
        day = self.campagne.date_debut
        if not mentor.actif:
            return f"{mentor} est inactif."
        if (mentor.disponible_du and mentor.disponible_du > day) or (
            mentor.disponible_au and mentor.disponible_au < day
        ):
            return f"{mentor} n'est pas disponible au {day:%d/%m/%Y}."
        if mentor.structure_id and mentor.structure_id not in self.perimeter:
            return f"{mentor} n'appartient pas au périmètre de la campagne."
        reason = matching.forbidden_reason(
            mentee_profile(mentore, self.lines, self.tried), mentor_profile(mentor, 1)
        )
        if reason:
            return f"{mentor} ne peut pas être proposé à {mentore} : {reason}."
        taken = self.taken[mentor.pk]
        if proposition is not None and proposition.mentor_id == mentor.pk:
            taken -= 1
        if taken >= self.places.get(mentor.pk, mentor.capacite):
            return f"{mentor} n'a plus de place libre dans cette campagne."
        return None


@transaction.atomic
def remove_proposal(proposition, by=None):
    """The délégué withdraws a proposal: the mentee stays on the waiting list."""
    campagne = Campagne.objects.select_for_update().get(pk=proposition.campagne_id)
    _check_editable(campagne)
    NonApparie.objects.create(
        campagne=campagne,
        mentore=proposition.mentore,
        motif=f"Proposition de {proposition.mentor} retirée par le délégué.",
    )
    proposition.delete()


@transaction.atomic
def swap_proposal(proposition, mentor, by=None):
    """The délégué gives the mentee another mentor; the hard rules still hold and the
    criteria are recomputed for the new pair."""
    campagne = Campagne.objects.select_for_update().get(pk=proposition.campagne_id)
    _check_editable(campagne)
    mentor = (
        Mentor.objects.select_related("structure").prefetch_related("domaines").get(pk=mentor.pk)
    )
    mentore = (
        Mentore.objects.select_related("cadre__structure")
        .prefetch_related("besoins", "mentors_souhaites", "mentors_exclus")
        .get(pk=proposition.mentore_id)
    )
    problem = PairChecker(campagne, [mentore], [mentor]).problem(mentore, mentor, proposition)
    if problem:
        raise ValidationError({"mentor": problem})
    (mentee,), (candidate,) = profiles([mentore], [mentor], {mentor.pk: 1})
    items = matching.criteria(mentee, candidate, weights())
    proposition.mentor = mentor
    proposition.criteres = [c.as_dict() for c in items]
    proposition.score = sum(c.points for c in items)
    proposition.modifiee_par = by
    proposition.save()
    return proposition


def ensure_mentor_account(mentor, by=None):
    """The mentor's account (created and invited if missing), with the mentor role."""
    user = mentor.user
    if user is None and mentor.cadre_id:
        user = account_for(mentor.cadre)
    if user is None:
        user = User.objects.filter(email__iexact=mentor.email).first()
    if user is None:
        user = User.objects.create_user(
            email=mentor.email, first_name=mentor.prenom, last_name=mentor.nom
        )
    if mentor.user_id != user.pk:
        mentor.user = user
        mentor.save(update_fields=["user"])
    if not user.roles.filter(kind=Role.Kind.MENTOR).exists():
        grant_role(user, Role.Kind.MENTOR)
    _invite_if_needed(user, by)
    return user


def _invite_if_needed(user, by):
    if not user.has_usable_password() and not Invitation.objects.filter(user=user).exists():
        invite(user, by)


def propose_relation(
    mentor, mentore, *, score, criteres, date_debut, duree_mois, campagne=None, by=None
):
    """A proposed relation, and the mail to each side (accounts created and invited if
    missing): what a confirmed campaign does for each pair, and a confirmed offer of
    the queue for its one. The caller has checked the pair."""
    relation = Mentorat.objects.create(
        mentor=mentor,
        mentore=mentore.cadre,
        campagne=campagne,
        contexte=mentore.contexte,
        objectifs=mentore.objectifs,
        score=score,
        criteres=criteres,
        date_debut=date_debut,
        date_fin_prevue=date_debut + relativedelta(months=duree_mois),
    )
    Mentore.objects.filter(pk=mentore.pk).update(statut=Mentore.Statut.PROPOSE, motif_attente="")
    mentor_user = ensure_mentor_account(mentor, by)
    mentee_user = account_for(mentore.cadre)
    _invite_if_needed(mentee_user, by)
    outbox.notify("mentorat_propose", relation, user=mentor_user, context={"side": "mentor"})
    outbox.notify("mentorat_propose", relation, user=mentee_user, context={"side": "mentore"})
    return relation


@transaction.atomic
def confirm(campagne, by=None):
    """Turn the reviewed proposals into proposed relations and mail both sides.
    Everything is checked again: the pools may have moved since the computation."""
    campagne = Campagne.objects.select_for_update().get(pk=campagne.pk)
    _check_editable(campagne)
    if campagne.statut != Campagne.Statut.CALCULEE:
        raise ValidationError("Calculez les propositions avant de confirmer la campagne.")
    propositions = list(
        campagne.propositions.select_related("mentor__structure", "mentore__cadre__structure")
        .prefetch_related(
            "mentor__domaines",
            "mentore__besoins",
            "mentore__mentors_souhaites",
            "mentore__mentors_exclus",
        )
        .order_by("pk")
    )
    if not propositions:
        raise ValidationError("Aucune proposition à envoyer.")
    # Lock the mentors and mentees whose places are about to be taken.
    list(Mentor.objects.select_for_update().filter(pk__in={p.mentor_id for p in propositions}))
    statuts = dict(
        Mentore.objects.select_for_update()
        .filter(pk__in={p.mentore_id for p in propositions})
        .values_list("pk", "statut")
    )
    checker = PairChecker(
        campagne, [p.mentore for p in propositions], list({p.mentor for p in propositions})
    )
    problems = []
    for p in propositions:
        if statuts[p.mentore_id] != Mentore.Statut.EN_ATTENTE:
            problems.append(f"{p.mentore} n'est plus en attente d'un mentor.")
            continue
        problem = checker.problem(p.mentore, p.mentor, p)
        if problem:
            problems.append(problem)
    if problems:
        raise ValidationError(
            ["Rien n'a été envoyé. Retirez ou modifiez ces propositions, ou recalculez :"]
            + problems
        )
    for p in propositions:
        propose_relation(
            p.mentor,
            p.mentore,
            score=p.score,
            criteres=p.criteres,
            date_debut=campagne.date_debut,
            duree_mois=campagne.duree_mois,
            campagne=campagne,
            by=by,
        )
    # The mentees left out wait in the queue with the campaign's reason.
    for non_apparie in campagne.non_apparies.select_related("mentore"):
        Mentore.objects.filter(pk=non_apparie.mentore_id, statut=Mentore.Statut.EN_ATTENTE).update(
            motif_attente=f"Campagne « {campagne} » : {non_apparie.motif}"
        )
    # Offers of the queue overtaken by the campaign: for these mentees, or of mentors
    # the campaign has filled.
    now = timezone.now()
    Offre.objects.open().filter(mentore__in=[p.mentore_id for p in propositions]).update(
        statut=Offre.Statut.CADUQUE,
        motif=f"Mentor proposé par la campagne « {campagne} ».",
        traitee_le=now,
    )
    places = free_places(list({p.mentor for p in propositions}))
    Offre.objects.open().filter(mentor__in=[pk for pk, left in places.items() if left <= 0]).update(
        statut=Offre.Statut.CADUQUE,
        motif=f"Places du mentor prises par la campagne « {campagne} ».",
        traitee_le=now,
    )
    campagne.statut = Campagne.Statut.CONFIRMEE
    campagne.confirmee_par = by
    campagne.confirmee_le = timezone.now()
    campagne.save()
    return campagne


# --- The relation ------------------------------------------------------------------


def side_of(mentorat, user):
    """ "mentor", "mentore", or None for anybody else."""
    if user.is_authenticated and mentorat.mentor.user_id == user.pk:
        return "mentor"
    if user.is_authenticated and mentorat.mentore.user_id == user.pk:
        return "mentore"
    return None


def _locked(mentorat):
    return (
        Mentorat.objects.select_for_update(of=("self",))
        .select_related("mentor__user", "mentore__user", "mentore__structure")
        .get(pk=mentorat.pk)
    )


@transaction.atomic
def accept(mentorat, user, charte=False):
    """One side accepts the proposal and the mentoring charter; once both have, the
    relation is accepted."""
    mentorat = _locked(mentorat)
    side = side_of(mentorat, user)
    if side is None:
        raise ValidationError("Seuls le mentor et le mentoré répondent à cette proposition.")
    if mentorat.statut != Mentorat.Statut.PROPOSE:
        raise ValidationError("Cette proposition n'attend plus de réponse.")
    if not charte:
        raise ValidationError({"charte": "Acceptez la charte du mentorat pour accepter."})
    now = timezone.now()
    field = "charte_mentor_le" if side == "mentor" else "charte_mentore_le"
    if getattr(mentorat, field) is None:
        setattr(mentorat, field, now)
    if mentorat.charte_mentor_le and mentorat.charte_mentore_le:
        mentorat.statut = Mentorat.Statut.ACCEPTE
        Mentore.objects.filter(cadre=mentorat.mentore).update(statut=Mentore.Statut.ACCOMPAGNE)
        for participant in _participants(mentorat):
            outbox.notify("mentorat_accepte", mentorat, user=participant)
    mentorat.save()
    return mentorat


@transaction.atomic
def decline(mentorat, user, motif):
    """One side declines: the pair is never proposed again and the mentee goes back
    to the waiting list with the reason."""
    mentorat = _locked(mentorat)
    side = side_of(mentorat, user)
    if side is None:
        raise ValidationError("Seuls le mentor et le mentoré répondent à cette proposition.")
    if mentorat.statut != Mentorat.Statut.PROPOSE:
        raise ValidationError("Cette proposition n'attend plus de réponse.")
    motif = (motif or "").strip()
    if not motif:
        raise ValidationError({"motif": "Indiquez pourquoi vous déclinez cette proposition."})
    mentorat.statut = Mentorat.Statut.DECLINE
    mentorat.decline_par = side
    mentorat.motif_fin = motif
    mentorat.save()
    who = "le mentor" if side == "mentor" else "le mentoré"
    Mentore.objects.filter(cadre=mentorat.mentore).update(
        statut=Mentore.Statut.EN_ATTENTE,
        motif_attente=f"Proposition de {mentorat.mentor} déclinée par {who} : {motif}",
    )
    # The other side, and the délégués who will find the mentee another mentor.
    other = mentorat.mentore.user if side == "mentor" else mentorat.mentor.user
    for user_to_tell in [other, *delegues_for(mentorat.mentore.structure)]:
        if user_to_tell:
            outbox.notify("mentorat_decline", mentorat, user=user_to_tell)
    # The mentor's place is free again: offered to the queue (not to this mentee).
    offer_place(mentorat.mentor, Offre.Evenement.DECLIN)
    return mentorat


def _participants(mentorat):
    return [u for u in (mentorat.mentor.user, mentorat.mentore.user) if u]


@transaction.atomic
def change_status(mentorat, statut, by=None, motif=""):
    """Délégué or either side: start, end or interrupt a relation."""
    mentorat = _locked(mentorat)
    if not check_step(
        Mentorat.TRANSITIONS, Mentorat.Statut(mentorat.statut), statut, "Un mentorat"
    ):
        return mentorat
    if statut == Mentorat.Statut.DECLINE:
        raise ValidationError({"statut": "Une proposition se décline depuis l'espace personnel."})
    if statut == Mentorat.Statut.ACCEPTE:
        raise ValidationError(
            {"statut": "Un mentorat est accepté quand mentor et mentoré ont accepté la charte."}
        )
    if statut == Mentorat.Statut.INTERROMPU and not motif.strip():
        raise ValidationError({"motif_fin": "Indiquez le motif de l'interruption."})
    mentorat.statut = statut
    if motif.strip():
        mentorat.motif_fin = motif.strip()
    if statut in (Mentorat.Statut.TERMINE, Mentorat.Statut.INTERROMPU):
        mentorat.date_fin = timezone.localdate()
        for rencontre in mentorat.rencontres.filter(
            statut=Session.Statut.PLANIFIEE, debut__gt=timezone.now()
        ):
            rencontre.statut = Session.Statut.ANNULEE
            rencontre.save()
    mentorat.save()
    if statut in (Mentorat.Statut.TERMINE, Mentorat.Statut.INTERROMPU):
        offer_place(mentorat.mentor, Offre.Evenement.FIN)  # a place is free again
    if statut == Mentorat.Statut.TERMINE:
        request_evaluations(
            mentorat,
            dispositif="mentorat",
            cadre=mentorat.mentore,
            participants=_participants(mentorat),
        )
    return mentorat


def check_dates(date_debut, date_fin_prevue):
    if date_fin_prevue <= date_debut:
        raise ValidationError({"date_fin_prevue": "La fin prévue doit suivre le début."})
    if not (
        date_debut + relativedelta(months=MIN_MONTHS)
        <= date_fin_prevue
        <= date_debut + relativedelta(months=MAX_MONTHS)
    ):
        raise ValidationError(
            {
                "date_fin_prevue": f"Un mentorat dure de {MIN_MONTHS} à {MAX_MONTHS} mois : "
                "ajustez la fin prévue."
            }
        )


# --- Meetings ------------------------------------------------------------------------


@transaction.atomic
def log_meeting(mentorat, user, *, debut, duree, mode, lieu="", lien_visio="", note=""):
    """Either side logs a meeting held (past) or plans one (future: reminders and
    calendar follow). The first held meeting starts the relation."""
    mentorat = _locked(mentorat)
    if side_of(mentorat, user) is None:
        raise ValidationError("Seuls le mentor et le mentoré saisissent leurs rencontres.")
    if mentorat.statut not in Mentorat.LIVE_STATUSES:
        raise ValidationError("Les rencontres se saisissent pour un mentorat accepté ou en cours.")
    held = debut <= timezone.now()
    if held and timezone.localtime(debut).date() < mentorat.date_debut - timedelta(days=31):
        raise ValidationError({"debut": "Cette date précède de loin le début du mentorat."})
    rencontre = Rencontre(
        mentorat=mentorat,
        debut=debut,
        duree=duree,
        mode=mode,
        lieu=lieu,
        lien_visio=lien_visio,
        statut=Session.Statut.REALISEE if held else Session.Statut.PLANIFIEE,
        saisie_par=user,
    )
    rencontre.full_clean()
    rencontre.save()
    if note.strip():
        NotePrivee.objects.create(rencontre=rencontre, auteur=user, texte=note.strip())
    if held and mentorat.statut == Mentorat.Statut.ACCEPTE:
        mentorat.statut = Mentorat.Statut.EN_COURS
        mentorat.save(update_fields=["statut"])
    return rencontre


@transaction.atomic
def mark_meeting(rencontre, user, statut):
    """A planned meeting is then held or cancelled, by either side."""
    rencontre = (
        Rencontre.objects.select_for_update(of=("self",))
        .select_related("mentorat__mentor", "mentorat__mentore")
        .get(pk=rencontre.pk)
    )
    if side_of(rencontre.mentorat, user) is None:
        raise ValidationError("Seuls le mentor et le mentoré modifient leurs rencontres.")
    if rencontre.statut != Session.Statut.PLANIFIEE:
        raise ValidationError("Seule une rencontre planifiée peut changer de statut.")
    if statut == Session.Statut.REALISEE and rencontre.debut > timezone.now():
        raise ValidationError("Une rencontre ne peut pas être réalisée avant d'avoir eu lieu.")
    if statut not in (Session.Statut.REALISEE, Session.Statut.ANNULEE):
        raise ValidationError("Statut de rencontre inconnu.")
    rencontre.statut = statut
    rencontre.save()
    mentorat = rencontre.mentorat
    if statut == Session.Statut.REALISEE and mentorat.statut == Mentorat.Statut.ACCEPTE:
        Mentorat.objects.filter(pk=mentorat.pk).update(statut=Mentorat.Statut.EN_COURS)
    return rencontre


def save_note(rencontre, user, texte):
    """The author's private note on a meeting (empty text deletes it)."""
    if side_of(rencontre.mentorat, user) is None:
        raise ValidationError("Seuls le mentor et le mentoré annotent leurs rencontres.")
    texte = (texte or "").strip()
    if not texte:
        NotePrivee.objects.filter(rencontre=rencontre, auteur=user).delete()
        return None
    note, _ = NotePrivee.objects.update_or_create(
        rencontre=rencontre, auteur=user, defaults={"texte": texte}
    )
    return note


# --- Silence ---------------------------------------------------------------------------


def silent_relations(today=None):
    today = today or timezone.localdate()
    return Mentorat.objects.silent_since(today - SILENCE)


@transaction.atomic
def remind_silent(today=None):
    """Remind both sides of each relation without a held meeting for 8 weeks: once
    per silence (the reference is the day the silence reached 8 weeks)."""
    sent = 0
    for mentorat in silent_relations(today).select_related("mentor__user", "mentore__user"):
        reference = timezone.make_aware(datetime.combine(mentorat.derniere + SILENCE, dt_time()))
        for participant in _participants(mentorat):
            outbox.notify(
                "mentorat_sans_rencontre", mentorat, user=participant, reference_at=reference
            )
            sent += 1
    return sent


# --- Health checks ---------------------------------------------------------------------


def health_check_due(date_debut, today):
    """(number, due date) of the latest check a relation started on ``date_debut`` is
    due on ``today``, or None before the first: day 30, then every 60 days."""
    days = (today - date_debut).days
    if days < PointEtape.FIRST:
        return None
    numero = (days - PointEtape.FIRST) // PointEtape.EVERY + 1
    return numero, date_debut + timedelta(days=PointEtape.FIRST + PointEtape.EVERY * (numero - 1))


def _sides(mentorat):
    return [
        (PointEtape.Cote.MENTOR, mentorat.mentor.user, mentorat.mentor.email),
        (PointEtape.Cote.MENTORE, mentorat.mentore.user, mentorat.mentore.email),
    ]


def send_health_checks(today=None):
    """Beat task: write the check each relation under way is due, for both sides, and
    its mail in the outbox. Idempotent: a check is one row per (relation, number,
    side), and its mail has the outbox's exactly-once key, so a second run, or a
    catch-up after days without a run, sends nothing twice (and only the latest check
    a relation is due, never a backlog)."""
    today = today or timezone.localdate()
    relations = Mentorat.objects.filter(
        statut__in=Mentorat.LIVE_STATUSES,
        date_debut__lte=today - timedelta(days=PointEtape.FIRST),
    ).select_related("mentor__user", "mentore__user")
    # The number of the last check written, per relation: in steady state the loop
    # below touches nothing.
    last = dict(
        PointEtape.objects.filter(mentorat__in=relations)
        .values("mentorat")
        .annotate(n=Max("numero"))
        .values_list("mentorat", "n")
    )
    sent = 0
    for mentorat in relations.order_by("pk").iterator(chunk_size=500):
        numero, echeance = health_check_due(mentorat.date_debut, today)
        if last.get(mentorat.pk, 0) >= numero:
            continue
        reference = timezone.make_aware(datetime.combine(echeance, dt_time()))
        with transaction.atomic():  # a check and its mail, or neither
            for cote, user, email in _sides(mentorat):
                point, _ = PointEtape.objects.get_or_create(
                    mentorat=mentorat, numero=numero, cote=cote, defaults={"echeance": echeance}
                )
                # The account's address when there is one, as for every other mail.
                if outbox.notify(
                    "mentorat_point_etape",
                    point,
                    user=user,
                    email=None if user else email,
                    reference_at=reference,
                ):
                    sent += 1
    return sent


def health_checks_for(user, mentorat):
    """The user's own unanswered checks on a relation under way (never the other
    side's)."""
    side = side_of(mentorat, user)
    if side is None or mentorat.statut not in Mentorat.LIVE_STATUSES:
        return PointEtape.objects.none()
    return PointEtape.objects.filter(mentorat=mentorat, cote=side, repondu_le__isnull=True)


@transaction.atomic
def answer_health_check(point, user, *, utilite, rythme, commentaire=""):
    """The side a check was sent to answers it, once."""
    point = (
        PointEtape.objects.select_for_update(of=("self",))
        .select_related("mentorat__mentor", "mentorat__mentore")
        .get(pk=point.pk)
    )
    if side_of(point.mentorat, user) != point.cote:
        raise ValidationError("Seul le destinataire de ce point d'étape y répond.")
    if point.repondu_le is not None:
        raise ValidationError(
            f"Vous avez déjà répondu à ce point d'étape le "
            f"{timezone.localtime(point.repondu_le):%d/%m/%Y}."
        )
    errors = {}
    for name, value in (("utilite", utilite), ("rythme", rythme)):
        if value not in range(1, 6):
            errors[name] = "Choisissez une note de 1 à 5."
    if errors:
        raise ValidationError(errors)
    point.utilite, point.rythme = utilite, rythme
    point.commentaire = (commentaire or "").strip()
    point.repondu_le = timezone.now()
    point.save()
    return point


# --- Waiting queue ---------------------------------------------------------------------

# A relation proposed from the queue starts on the day of the confirmation, for this
# long unless the délégué says otherwise.
QUEUE_MONTHS = 9


def _root_path(structure):
    """The materialised path of the top of the structure's tree (its ministry)."""
    chemin = structure.chemin
    lead = "/" if chemin.startswith("/") else ""
    return f"{lead}{chemin.strip('/').split('/')[0]}/"


def queue_candidates(mentor):
    """Waiting mentees a freed place of ``mentor`` may go to: those of the mentor's
    ministry (anyone's for a mentor of the shared pool, attached to no structure), who
    are in no other open offer and were not skipped for this mentor. The hard rules
    of the engine come on top (``offer_place``)."""
    mentees = Mentore.objects.waiting().exclude(
        Exists(Offre.objects.open().filter(mentore=OuterRef("pk")).exclude(mentor=mentor))
    )
    mentees = mentees.exclude(
        Exists(
            Offre.objects.filter(mentore=OuterRef("pk"), mentor=mentor, statut=Offre.Statut.PASSEE)
        )
    )
    if mentor.structure_id:
        mentees = mentees.filter(cadre__structure__chemin__startswith=_root_path(mentor.structure))
    return mentees


def _load_mentor(mentor, lock=False):
    queryset = Mentor.objects.select_related("structure").prefetch_related("domaines")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.get(pk=mentor.pk)


def _mentor_problem(mentor, day):
    """Why the mentor has no place to offer on ``day``, or None."""
    if not mentor.actif:
        return f"{mentor} est inactif."
    if (mentor.disponible_du and mentor.disponible_du > day) or (
        mentor.disponible_au and mentor.disponible_au < day
    ):
        return f"{mentor} n'est pas disponible au {day:%d/%m/%Y}."
    if free_places([mentor])[mentor.pk] <= 0:
        return f"{mentor} n'a plus de place libre."
    return None


@transaction.atomic
def offer_place(mentor, evenement, today=None):
    """A mentor freed a place (a relation ended, capacity raised, a new mentor): offer
    the délégués the best waiting mentee for it, scored and explained by the engine
    with the hard rules of a campaign (ties: the longest waiting). One open offer per
    mentor at a time: the next comes when it is confirmed or skipped. Returns the
    offer, or None (no place, nobody possible, an offer already open)."""
    today = today or timezone.localdate()
    mentor = _load_mentor(mentor, lock=True)
    if Offre.objects.open().filter(mentor=mentor).exists() or _mentor_problem(mentor, today):
        return None
    mentees = list(
        queue_candidates(mentor)
        .select_related("cadre__structure")
        .prefetch_related("besoins", "mentors_souhaites", "mentors_exclus")
        .order_by("en_attente_depuis", "pk")
    )
    if not mentees:
        return None
    mentee_profiles, (candidate,) = profiles(mentees, [mentor], {mentor.pk: 1})
    w = weights()
    scores = matching.score_matrix(mentee_profiles, [candidate], w)[:, 0]
    best = int(scores.argmax())  # the first of the best: the longest waiting
    if scores[best] < 0:
        return None
    items = matching.criteria(mentee_profiles[best], candidate, w)
    mentore = mentees[best]
    try:
        with transaction.atomic():
            offre = Offre.objects.create(
                mentor=mentor,
                mentore=mentore,
                evenement=evenement,
                score=sum(c.points for c in items),
                criteres=[c.as_dict() for c in items],
            )
    except IntegrityError:  # a concurrent offer took this mentee: the next event retries
        return None
    for delegue in delegues_for(mentore.cadre.structure):
        outbox.notify("mentorat_offre", offre, user=delegue)
    return offre


def _locked_offer(offre):
    offre = (
        Offre.objects.select_for_update(of=("self",))
        .select_related("mentor", "mentore__cadre")
        .get(pk=offre.pk)
    )
    if offre.statut != Offre.Statut.OUVERTE:
        raise ValidationError(
            f"Cette offre a déjà été traitée ({offre.get_statut_display().lower()})."
        )
    return offre


@transaction.atomic
def confirm_offer(offre, by=None, duree_mois=QUEUE_MONTHS):
    """The délégué confirms: a proposed relation through the campaigns' service (the
    same mails), starting today. Every rule is checked again: the queue may have
    moved since the offer."""
    offre = _locked_offer(offre)
    today = timezone.localdate()
    if not MIN_MONTHS <= duree_mois <= MAX_MONTHS:
        raise ValidationError(
            {"duree_mois": f"Un mentorat dure de {MIN_MONTHS} à {MAX_MONTHS} mois."}
        )
    mentor = _load_mentor(offre.mentor, lock=True)
    mentore = (
        Mentore.objects.select_for_update(of=("self",))
        .select_related("cadre__structure")
        .prefetch_related("besoins", "mentors_souhaites", "mentors_exclus")
        .get(pk=offre.mentore_id)
    )
    if mentore.statut != Mentore.Statut.EN_ATTENTE:
        raise ValidationError(f"{mentore} n'est plus en attente d'un mentor : passez cette offre.")
    problem = _mentor_problem(mentor, today)
    if problem is None:
        (mentee,), (candidate,) = profiles([mentore], [mentor], {mentor.pk: 1})
        reason = matching.forbidden_reason(mentee, candidate)
        if reason:
            problem = f"{mentor} ne peut pas être proposé à {mentore} : {reason}."
    if problem is None and not queue_candidates(mentor).filter(pk=mentore.pk).exists():
        problem = f"{mentore} n'est plus dans la file d'attente de {mentor}."
    if problem:
        raise ValidationError(f"Rien n'a été envoyé. {problem} Passez cette offre.")
    relation = propose_relation(
        mentor,
        mentore,
        score=offre.score,
        criteres=offre.criteres,
        date_debut=today,
        duree_mois=duree_mois,
        by=by,
    )
    offre.statut = Offre.Statut.CONFIRMEE
    offre.mentorat = relation
    offre.traitee_le, offre.traitee_par = timezone.now(), by
    offre.save()
    offer_place(mentor, Offre.Evenement.SUITE)  # a place left: the next mentee
    return offre


@transaction.atomic
def skip_offer(offre, by=None, motif=""):
    """The délégué skips: recorded (this mentee is not offered to this mentor again),
    and the mentor's place goes to the next best waiting mentee."""
    offre = _locked_offer(offre)
    offre.statut = Offre.Statut.PASSEE
    offre.motif = (motif or "").strip()
    offre.traitee_le, offre.traitee_par = timezone.now(), by
    offre.save()
    return offre, offer_place(offre.mentor, Offre.Evenement.SUITE)


def mentor_saved(mentor, previous=None):
    """Hook of the mentor's forms: a new mentor, a capacity raised or a mentor active
    again frees places for the queue. ``previous``: (capacité, actif) before the
    change, None for a new mentor."""
    if previous is None:
        return offer_place(mentor, Offre.Evenement.NOUVEAU)
    capacite, actif = previous
    if mentor.actif and (mentor.capacite > capacite or not actif):
        return offer_place(mentor, Offre.Evenement.CAPACITE)
    return None
