"""Co-development rules: group size, the cycle's calendar, the client rotation, the
séance runner (timings, pause) and the four-A evaluation. Views of the facilitator
space, the admin and the tests call these."""

from collections import Counter
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F
from django.utils import timezone

from accompagnement.services import outbox
from accompagnement.services.evaluations import MIN_ANSWERS
from accompagnement.services.sessions import sync_session_notifications
from accompagnement.working_days import next_working_day
from cadres.models import Cadre

from .models import (
    MAX_MEMBRES,
    PHASES,
    QUATRE_A,
    Apprentissage,
    EvaluationRendue,
    EvaluationSeance,
    Groupe,
    Membre,
    Note,
    Phase,
    PlanAction,
    Presence,
    Seance,
)

# --- Members -------------------------------------------------------------------


@transaction.atomic
def add_member(groupe, cadre, on=None):
    """Add a cadre to a group. The group's row is locked while members are counted, so
    two simultaneous additions cannot make a ninth member."""
    groupe = Groupe.objects.select_for_update().get(pk=groupe.pk)
    existing = Membre.objects.filter(groupe=groupe, cadre=cadre).first()
    if existing is not None and existing.date_sortie is None:
        raise ValidationError(f"{cadre} est déjà membre du groupe « {groupe} ».")
    if groupe.membres.actifs().count() >= MAX_MEMBRES:
        raise ValidationError(
            f"Le groupe « {groupe} » compte déjà {MAX_MEMBRES} membres : un groupe de "
            f"codéveloppement en réunit au plus {MAX_MEMBRES}, l'animateur en plus."
        )
    if existing is not None:  # coming back after leaving
        existing.date_sortie = None
        existing.date_entree = on or timezone.localdate()
        existing.save(update_fields=["date_sortie", "date_entree"])
        membre = existing
    else:
        membre = Membre.objects.create(
            groupe=groupe, cadre=cadre, date_entree=on or timezone.localdate()
        )
    _rotate_again(groupe)  # a late joiner enters the rotation
    return membre


def add_member_by_email(groupe, email):
    cadre = Cadre.objects.filter(email__iexact=(email or "").strip(), actif=True).first()
    if cadre is None:
        raise ValidationError({"email": "Aucun cadre n'a cette adresse électronique."})
    return add_member(groupe, cadre)


@transaction.atomic
def remove_member(membre, on=None):
    groupe = Groupe.objects.select_for_update().get(pk=membre.groupe_id)
    membre.date_sortie = on or timezone.localdate()
    membre.save(update_fields=["date_sortie"])
    _rotate_again(groupe)  # their future turns go to the others


def _rotate_again(groupe):
    """After a change of members (the group's row locked): the séances still to come
    get their clients again, so that a late joiner enters the rotation and a leaver's
    turns go to the others while everyone stays once before anyone twice; their
    reminders follow the new list of participants. Séances started, held, cancelled or
    past keep their client."""
    future = groupe.seances.filter(
        debut__gt=timezone.now(), statut=Seance.Statut.PLANIFIEE, phase=""
    )
    if not future.exists():
        return
    future.update(client=None)
    assign_clients(groupe)
    for seance in future.select_related("groupe__animateur"):
        sync_session_notifications(seance)


# --- The group's settings --------------------------------------------------------


def follow_group_duration(groupe):
    """After the group's séance length changed: the séances still to come take it, and
    their calendars and reminders follow (``save()``). Séances started or held keep
    theirs."""
    future = groupe.seances.filter(
        debut__gt=timezone.now(), statut=Seance.Statut.PLANIFIEE, phase=""
    ).exclude(duree=groupe.duree)
    for seance in future.select_related("groupe__animateur"):
        seance.duree = groupe.duree
        seance.save()


# --- The cycle -----------------------------------------------------------------


def cycle_dates(groupe):
    """Start times of the cycle: every ``rythme_semaines`` from the start, moved to the
    next working day when they fall on a weekend or a public holiday, as many as the
    group's target (by default one per member, so that each is client once)."""
    dates, day, target = [], groupe.date_debut, groupe.nb_seances()
    while day <= groupe.date_fin and len(dates) < target:
        worked = next_working_day(day)
        if worked > groupe.date_fin:
            break
        if not dates or worked > dates[-1]:
            dates.append(worked)
        day += timedelta(weeks=groupe.rythme_semaines)
    tz = timezone.get_current_timezone()
    return [timezone.make_aware(datetime.combine(d, groupe.heure), tz) for d in dates]


@transaction.atomic
def generate_cycle(groupe):
    """Create the séances of the period (those not yet created) and assign clients."""
    groupe = Groupe.objects.select_for_update().get(pk=groupe.pk)
    if groupe.seances.exists():
        raise ValidationError("Le cycle de ce groupe est déjà planifié.")
    if groupe.membres.actifs().count() < 2:
        raise ValidationError("Ajoutez au moins deux membres avant de planifier le cycle.")
    starts = cycle_dates(groupe)
    if not starts:
        raise ValidationError("Aucune séance possible sur la période choisie.")
    for numero, debut in enumerate(starts, start=1):
        seance = Seance(
            groupe=groupe,
            numero=numero,
            debut=debut,
            duree=groupe.duree,
            mode=groupe.mode,
            lieu=groupe.lieu,
            lien_visio=groupe.lien_visio,
        )
        seance.save()
    assign_clients(groupe)
    return list(groupe.seances.select_related("client__cadre").order_by("numero"))


def assign_clients(groupe):
    """Fair rotation: each séance still to come without a client gets, among the members
    of the group on that day, one who has been client the fewest times (ties: earliest
    member). So everyone is client once before anyone is client twice; a member absent
    from their séance simply stays at the front of the queue."""
    seances = list(groupe.seances.order_by("numero"))
    membres = list(groupe.membres.all())
    absent_clients = set(
        Presence.objects.filter(
            seance__groupe=groupe, present=False, membre_id=F("seance__client_id")
        ).values_list("seance_id", flat=True)
    )
    turns = Counter()
    for seance in seances:
        if seance.client_id and _held_or_fixed(seance) and seance.pk not in absent_clients:
            turns[seance.client_id] += 1
    for seance in seances:
        if seance.client_id or not _open(seance):
            continue
        day = seance.jour
        present = [
            m
            for m in membres
            if m.date_entree <= day and (m.date_sortie is None or m.date_sortie >= day)
        ]
        if not present:
            continue
        chosen = min(present, key=lambda m: (turns[m.pk], m.date_entree, m.pk))
        turns[chosen.pk] += 1
        Seance.objects.filter(pk=seance.pk).update(client=chosen)


def _open(seance):
    return seance.statut == Seance.Statut.PLANIFIEE and seance.phase == ""


def _held_or_fixed(seance):
    return seance.statut != Seance.Statut.ANNULEE


@transaction.atomic
def set_client(seance, membre):
    """The animateur swaps the client of a séance by hand."""
    seance = Seance.objects.select_for_update().get(pk=seance.pk)  # as the runner left it
    day = seance.jour
    if not Membre.objects.filter(pk=membre.pk, groupe_id=seance.groupe_id).actifs(on=day):
        raise ValidationError("Le client doit être membre du groupe.")
    if not _open(seance) or seance.debut <= timezone.now():
        raise ValidationError("Le client d'une séance commencée ou passée ne change plus.")
    Seance.objects.filter(pk=seance.pk).update(client=membre)


@transaction.atomic
def reschedule(seance, debut):
    """Move one séance; reminders and calendars follow (shared session machinery)."""
    if not _open(seance):
        raise ValidationError("Une séance commencée, close ou annulée ne se déplace plus.")
    if debut <= timezone.now():
        raise ValidationError({"debut": "La nouvelle date doit être dans le futur."})
    seance.debut = debut
    seance.save()
    return seance


# --- The runner ----------------------------------------------------------------


RUNNER_STATE = ["phase", "phase_debut", "commencee_le", "en_pause_depuis", "terminee_le"]


def _save_runner_state(seance, *extra):
    # Only the runner's state: the meeting itself (time, place) has not changed, so no
    # new calendar version and no reminder to rewrite.
    Seance.objects.filter(pk=seance.pk).update(
        **{name: getattr(seance, name) for name in [*RUNNER_STATE, *extra]}
    )


def _end_pause(seance, now):
    """The countdowns start again where they stopped: the starts move by the pause."""
    if seance.en_pause_depuis:
        paused = now - seance.en_pause_depuis
        seance.phase_debut += paused
        if seance.commencee_le:  # None for a séance started before it was recorded
            seance.commencee_le += paused
        seance.en_pause_depuis = None


@transaction.atomic
def next_phase(seance):
    """Start the séance, or move to the next phase; after the last one, close it. The
    séance keeps the group's timings of the moment it starts."""
    seance = Seance.objects.select_for_update().select_related("groupe").get(pk=seance.pk)
    if seance.terminee_le:
        raise ValidationError("Cette séance est close.")
    if seance.statut == Seance.Statut.ANNULEE:
        raise ValidationError("Cette séance est annulée.")
    now = timezone.now()
    _end_pause(seance, now)
    index = seance.phase_index
    if index < 0:
        seance.commencee_le = now
        seance.durees_phases = seance.groupe.phase_minutes()
    if index + 1 < len(PHASES):
        seance.phase = PHASES[index + 1].value
        seance.phase_debut = now
    else:
        seance.terminee_le = now
        seance.statut = Seance.Statut.REALISEE
    _save_runner_state(seance, "statut", "durees_phases")
    if seance.terminee_le:
        _ask_for_evaluations(seance)
    return seance


def _ask_for_evaluations(seance):
    """A mail to each member present (with an account) inviting them to the four-A
    evaluation, through the outbox, once (the closing time is the reference)."""
    membres = seance.groupe.membres.actifs(on=seance.jour).select_related("cadre__user")
    presences = dict(seance.presences.values_list("membre_id", "present"))
    for membre in membres:
        if membre.cadre.user is not None and counts_as_present(presences, membre.pk):
            outbox.notify(
                "codev_evaluation",
                seance,
                user=membre.cadre.user,
                reference_at=seance.terminee_le,
            )


@transaction.atomic
def pause(seance):
    """Stop the countdowns (a break, a technical problem); ``resume`` starts them again."""
    seance = Seance.objects.select_for_update().get(pk=seance.pk)
    if not seance.phase or seance.terminee_le:
        raise ValidationError("Seule une séance en cours se met en pause.")
    if seance.en_pause_depuis is None:
        seance.en_pause_depuis = timezone.now()
        _save_runner_state(seance)
    return seance


@transaction.atomic
def resume(seance):
    seance = Seance.objects.select_for_update().get(pk=seance.pk)
    if seance.en_pause_depuis is not None:
        _end_pause(seance, timezone.now())
        _save_runner_state(seance)
    return seance


@transaction.atomic
def record_attendance(seance, present_ids):
    """``present_ids``: ids of the members present; the others are absent. A client
    who was absent has not had their turn: the séances to come are rotated again."""
    groupe = Groupe.objects.select_for_update().get(pk=seance.groupe_id)
    day = seance.jour
    for membre in groupe.membres.actifs(on=day):
        Presence.objects.update_or_create(
            seance=seance, membre=membre, defaults={"present": membre.pk in present_ids}
        )
    started = seance.phase or seance.terminee_le or seance.debut <= timezone.now()
    if started and seance.client_id and seance.client_id not in present_ids:
        _rotate_again(groupe)


def record_content(seance, **fields):
    """What the group says (problem, contract, rating): content, not a change of date,
    so no save() and calendars and reminders stay as they are."""
    Seance.objects.filter(pk=seance.pk).update(**fields)


def record_followup(plan, suivi):
    PlanAction.objects.filter(pk=plan.pk).update(suivi=suivi.strip())


def record_plan(seance, actions):
    if seance.client_id is None:
        raise ValidationError("Désignez le client de la séance avant son plan d'action.")
    if not actions.strip():
        raise ValidationError({"actions": "Décrivez au moins une action."})
    plan, _ = PlanAction.objects.update_or_create(
        seance=seance, defaults={"membre_id": seance.client_id, "actions": actions.strip()}
    )
    return plan


def previous_plan(seance):
    """The action plan of the previous séance, shown at the opening round."""
    return (
        PlanAction.objects.filter(seance__groupe=seance.groupe, seance__numero__lt=seance.numero)
        .select_related("membre__cadre")
        .order_by("-seance__numero")
        .first()
    )


def record_learning(seance, membre, texte):
    if membre.groupe_id != seance.groupe_id:
        raise ValidationError("Seuls les membres du groupe notent leurs apprentissages.")
    return Apprentissage.objects.update_or_create(
        seance=seance, membre=membre, defaults={"texte": texte.strip()}
    )[0]


# --- The four-A evaluation -----------------------------------------------------

# Members answer from the séance's last step until this many days after it closed.
EVALUATION_WINDOW = timedelta(days=14)
SCORES = [name for name, _, _ in QUATRE_A]


def evaluation_open(seance, now=None):
    """Whether the séance can be evaluated now: at its last step, or closed less than
    ``EVALUATION_WINDOW`` ago."""
    now = now or timezone.now()
    if seance.statut == Seance.Statut.ANNULEE:
        return False
    if seance.terminee_le:
        return now <= seance.terminee_le + EVALUATION_WINDOW
    return seance.phase == Phase.APPRENTISSAGE


def counts_as_present(presences, membre_id):
    """``presences``: {member id: present} of a séance. Until attendance is taken,
    every member of the day counts as present."""
    return presences.get(membre_id, not presences)


def may_evaluate(seance, membre):
    """Members of the group present at the séance (all members of the day while the
    attendance is not taken)."""
    if membre.groupe_id != seance.groupe_id:
        return False
    if not Membre.objects.filter(pk=membre.pk).actifs(on=seance.jour).exists():
        return False
    presences = dict(seance.presences.values_list("membre_id", "present"))
    return counts_as_present(presences, membre.pk)


@transaction.atomic
def answer_evaluation(seance, membre, **scores):
    """Record a member's four-A answer: once per séance (the ``EvaluationRendue`` row is
    unique), the answer itself stored without any link to the person."""
    seance = Seance.objects.get(pk=seance.pk)  # as the runner left it
    if not may_evaluate(seance, membre):
        raise ValidationError("Seuls les membres présents à la séance l'évaluent.")
    if not evaluation_open(seance):
        raise ValidationError(
            "L'évaluation de cette séance n'est pas ouverte : elle s'ouvre à la dernière "
            f"étape de la séance et se ferme {EVALUATION_WINDOW.days} jours après."
        )
    if set(scores) != set(SCORES) or any(scores[name] not in Note.values for name in SCORES):
        raise ValidationError("Répondez aux quatre questions, de 1 à 5.")
    try:
        with transaction.atomic():
            EvaluationRendue.objects.create(seance=seance, membre=membre)
    except IntegrityError:
        raise ValidationError(
            "Vous avez déjà évalué cette séance : une réponse par séance."
        ) from None
    EvaluationSeance.objects.create(seance=seance, **scores)


def evaluation_figures(seances):
    """The animateur's view of the four A: per séance of ``seances`` (a queryset), the
    number of answers and, from ``MIN_ANSWERS`` answers, the average of each A; for the
    whole cycle, the averages over the séances shown only, so that a séance's hidden
    figures cannot be worked out from the cycle's. One query."""
    rows = (
        EvaluationSeance.objects.filter(seance__in=seances)
        .values("seance_id")
        .annotate(reponses=Count("pk"), **{name: Avg(name) for name in SCORES})
        .order_by()
    )
    per_seance, shown = {}, []
    for row in rows:
        masked = row["reponses"] < MIN_ANSWERS
        per_seance[row["seance_id"]] = {
            "reponses": row["reponses"],
            "masque": masked,
            "moyennes": None if masked else _averages(row),
        }
        if not masked:
            shown.append(row)
    total = sum(row["reponses"] for row in shown)
    cycle = {
        "reponses": sum(row["reponses"] for row in rows),
        "seances": len(shown),
        "moyennes": None,
    }
    if total:
        weighted = {
            name: sum(row[name] * row["reponses"] for row in shown) / total for name in SCORES
        }
        cycle["moyennes"] = _averages(weighted)
    return {"seances": per_seance, "cycle": cycle}


def _averages(values):
    return [
        {"code": name, "label": label, "moyenne": round(float(values[name]), 1)}
        for name, label, _ in QUATRE_A
    ]
