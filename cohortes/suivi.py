"""The follow-up of a cohort: per member, the schemes they are in, the sessions held,
the evaluations given, the last activity and the alert of a silent member; figures for
the whole cohort. A fixed number of queries whatever the size of the cohort (one per
kind of data, never one per member).

HR sees attendance, dates and counts only, never what is said in a session."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, Max, Q
from django.utils import timezone

from accompagnement.models import Dispositif, Evaluation, Session
from cadres.perimeter import filter_for_user
from coaching.models import Coaching
from codev.models import EvaluationRendue, Membre, Presence, Seance
from immersion.models import Immersion
from mentorat.models import Mentorat, Mentore

from . import droits

# A member without a held session, meeting or séance attended for this long is flagged.
SILENCE = timedelta(weeks=6)
ALERTE = "Aucune activité depuis 6 semaines"


@dataclass
class Ligne:
    membre: object  # MembreCohorte, with its cadre
    mentorat: object = None  # Mentorat, with its mentor
    attente_mentor: str = ""  # the waiting status when there is no relation
    rencontres: int = 0
    groupe: object = None  # codev Membre, with its group
    seances_codev: int = 0
    coaching: object = None
    seances_coaching: int = 0
    immersion: object = None
    jours_immersion: int = 0
    evaluations: int = 0
    derniere_activite: date | None = None
    alerte: bool = False
    dates: list = field(default_factory=list, repr=False)
    # Scheme -> the latest request made of a right the cohort opens (None: not asked).
    droits: dict = field(default_factory=dict, repr=False)

    @property
    def cadre(self):
        return self.membre.cadre

    @property
    def mentorat_text(self):
        if self.mentorat is not None:
            return f"{self.mentorat.mentor} ({self.mentorat.get_statut_display().lower()})"
        return self.attente_mentor or "—"

    @property
    def groupe_text(self):
        return self.groupe.groupe.nom if self.groupe is not None else "—"

    def droit_text(self, dispositif):
        """What became of a right the cohort opens, for a member without the programme."""
        if dispositif not in self.droits:
            return "—"
        demande = self.droits[dispositif]
        if demande is None:
            return "Droit ouvert, pas encore demandé"
        statut = demande.get_statut_display().lower()
        return f"Droit ouvert, demande {statut} (reçue le {demande.recue_le:%d/%m/%Y})"

    @property
    def coaching_text(self):
        if self.coaching is None:
            return self.droit_text(Dispositif.COACHING)
        coach = f" avec {self.coaching.coach}" if self.coaching.coach_id else ""
        return f"{self.coaching.get_statut_display()}{coach}"

    @property
    def immersion_text(self):
        if self.immersion is None:
            return self.droit_text(Dispositif.IMMERSION)
        return f"{self.immersion.get_statut_display()} – {self.immersion.structure_accueil}"

    @property
    def seances(self):
        return self.rencontres + self.seances_codev + self.seances_coaching


def _day(moment):
    if moment is None:
        return None
    return timezone.localtime(moment).date() if hasattr(moment, "tzinfo") else moment


def _latest_by_cadre(rows, prefer=None):
    """{cadre id: row}: the first row of each cadre (rows ordered newest first), or one
    that ``prefer`` accepts when there is one."""
    chosen = {}
    for row in rows:
        current = chosen.get(row.cadre_id)
        if current is None or (prefer and prefer(row) and not prefer(current)):
            chosen[row.cadre_id] = row
    return chosen


def follow_up(cohorte, today=None, user=None):
    """(lines, summary) of the cohort's follow-up page and exports. With ``user``, only
    the members inside their perimeter (a member may have moved out since)."""
    today = today or timezone.localdate()
    membres = cohorte.membres.select_related("cadre__structure", "cadre__user")
    if user is not None:
        membres = filter_for_user(membres, user, "cadre__structure")
    membres = list(membres)
    ids = [m.cadre_id for m in membres]
    since = cohorte.date_debut
    lines = {m.cadre_id: Ligne(membre=m) for m in membres}

    # Mentoring: the relation of the cohort's campaign, else the latest one under way.
    held = Q(rencontres__statut=Session.Statut.REALISEE)
    relations = (
        Mentorat.objects.filter(mentore__in=ids)
        .exclude(statut=Mentorat.Statut.DECLINE)
        .exclude(date_fin__lt=since)
        .select_related("mentor")
        .annotate(
            tenues=Count("rencontres", filter=held),
            derniere=Max("rencontres__debut", filter=held),
            cadre_id=F("mentore_id"),
        )
        .order_by("-cree_le", "-pk")
    )
    campagne = cohorte.campagne_id
    chosen = _latest_by_cadre(relations, prefer=lambda r: campagne and r.campagne_id == campagne)
    for cadre_id, relation in chosen.items():
        line = lines[cadre_id]
        line.mentorat, line.rencontres = relation, relation.tenues
        line.dates.append(_day(relation.derniere))
    for cadre_id, statut in Mentore.objects.filter(cadre__in=ids).values_list("cadre", "statut"):
        if lines[cadre_id].mentorat is None and statut != Mentore.Statut.RETIRE:
            lines[cadre_id].attente_mentor = Mentore.Statut(statut).label

    # Co-development: the member's group among the cohort's, the séances held they
    # attended (until attendance is taken, every member of the day counts as present).
    groupes = list(cohorte.groupes.values_list("pk", flat=True))
    codev = list(
        Membre.objects.filter(groupe__in=groupes, cadre__in=ids)
        .select_related("groupe")
        .order_by("date_sortie", "-date_entree")
    )
    seances = list(
        Seance.objects.filter(groupe__in=groupes, statut=Session.Statut.REALISEE).values_list(
            "pk", "groupe_id", "debut"
        )
    )
    absences = set(
        Presence.objects.filter(seance__groupe__in=groupes, present=False).values_list(
            "seance_id", "membre_id"
        )
    )
    rendues = dict(
        EvaluationRendue.objects.filter(membre__in=[m.pk for m in codev])
        .values("membre")
        .annotate(n=Count("pk"))
        .values_list("membre", "n")
    )
    for membre in codev:
        line = lines[membre.cadre_id]
        if line.groupe is not None:
            continue  # the current membership first
        line.groupe = membre
        line.evaluations += rendues.get(membre.pk, 0)
        for seance_id, groupe_id, debut in seances:
            day = _day(debut)
            if (
                groupe_id == membre.groupe_id
                and membre.date_entree <= day
                and (membre.date_sortie is None or day <= membre.date_sortie)
                and (seance_id, membre.pk) not in absences
            ):
                line.seances_codev += 1
                line.dates.append(day)

    # Coaching and immersion: the latest under way or ended during the programme.
    held = Q(seances__statut=Session.Statut.REALISEE)
    coachings = (
        Coaching.objects.filter(cadre__in=ids)
        .exclude(date_fin__lt=since)
        .select_related("coach")
        .annotate(
            realisees=Count("seances", filter=held),
            derniere=Max("seances__debut", filter=held),
        )
        .order_by("-cree_le", "-pk")
    )
    for cadre_id, coaching in _latest_by_cadre(coachings).items():
        line = lines[cadre_id]
        line.coaching, line.seances_coaching = coaching, coaching.realisees
        line.dates.append(_day(coaching.derniere))
    done = Q(jours__effectue=True)
    immersions = (
        Immersion.objects.filter(cadre__in=ids)
        .exclude(statut__in=Immersion.NOT_COUNTING)
        .annotate(
            faits=Count("jours", filter=done),
            dernier=Max("jours__date", filter=done),
            fin=Max("jours__date"),
        )
        .exclude(fin__lt=since)
        .order_by("-pk")
    )
    for cadre_id, immersion in _latest_by_cadre(immersions).items():
        line = lines[cadre_id]
        line.immersion, line.jours_immersion = immersion, immersion.faits
        line.dates.append(immersion.dernier)

    # The coaching and immersion rights the cohort opens, and the requests made of them.
    schemes = [d for d, name in droits.RIGHTS.items() if getattr(cohorte, name)]
    if schemes:
        requests = droits.requests_of(cohorte, ids)
        for cadre_id, line in lines.items():
            line.droits = {d: requests.get((cadre_id, d)) for d in schemes}

    # End-of-programme questionnaires the members answered since the start.
    for cadre_id, n in (
        Evaluation.objects.filter(
            cadre__in=ids, participant=F("cadre__user"), remplie_le__date__gte=since
        )
        .values("cadre")
        .annotate(n=Count("pk"))
        .values_list("cadre", "n")
    ):
        lines[cadre_id].evaluations += n

    running = cohorte.date_debut <= today <= cohorte.date_fin
    for line in lines.values():
        dates = [d for d in line.dates if d and d <= today]
        line.derniere_activite = max(dates) if dates else None
        reference = line.derniere_activite or cohorte.date_debut
        line.alerte = running and today - reference >= SILENCE
    ordered = [lines[m.cadre_id] for m in membres]
    return ordered, summary(ordered)


def summary(lines):
    return {
        "membres": len(lines),
        "mentorat": sum(1 for line in lines if line.mentorat is not None),
        "codev": sum(1 for line in lines if line.groupe is not None),
        "coaching": sum(1 for line in lines if line.coaching is not None),
        "immersion": sum(1 for line in lines if line.immersion is not None),
        "rencontres": sum(line.rencontres for line in lines),
        "seances_codev": sum(line.seances_codev for line in lines),
        "seances_coaching": sum(line.seances_coaching for line in lines),
        "evaluations": sum(line.evaluations for line in lines),
        "alertes": sum(1 for line in lines if line.alerte),
    }


# Columns of the exports: (header, line -> value).
COLUMNS = [
    ("Nom", lambda line: line.cadre.nom),
    ("Prénom", lambda line: line.cadre.prenom),
    ("Adresse électronique", lambda line: line.cadre.email),
    ("Structure", lambda line: str(line.cadre.structure)),
    ("Mentorat", lambda line: line.mentorat_text),
    ("Rencontres de mentorat tenues", lambda line: line.rencontres),
    ("Groupe de codéveloppement", lambda line: line.groupe_text),
    ("Séances de codéveloppement suivies", lambda line: line.seances_codev),
    ("Coaching", lambda line: line.coaching_text),
    ("Séances de coaching réalisées", lambda line: line.seances_coaching),
    ("Immersion", lambda line: line.immersion_text),
    ("Jours d'immersion effectués", lambda line: line.jours_immersion),
    ("Évaluations rendues", lambda line: line.evaluations),
    ("Dernière activité", lambda line: line.derniere_activite),
    ("Alerte", lambda line: ALERTE if line.alerte else ""),
]
