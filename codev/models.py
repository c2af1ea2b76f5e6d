"""Co-development (codéveloppement professionnel): groups of at most 8 peers (run by an
internal animateur or an external provider's, on a quote), a cycle of séances with a
rotating client, the six phases with their timings, attendance, action plans and the
four-A evaluation.

What is said in a group stays in the group: HR (admin) sees attendance and counts only;
problem statements, contracts, action plans and learnings are shown to the group only,
and the four-A answers, anonymous, to the animateur as aggregates only."""

import uuid
from datetime import time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Dispositif, Mode, Session
from cadres.models import Cadre, Structure

MAX_MEMBRES = 8
# The usual frame of a cycle: a séance every 2 to 6 weeks, over 6 to 12 months. Outside
# it the animateur (or the délégué) confirms explicitly (see ``Groupe.cycle_warnings``).
RYTHME_USUEL = (2, 6)
DUREE_CYCLE_MOIS = (6, 12)


class Phase(models.TextChoices):
    """The séance's steps, in order: the opening round on the last action plan, then
    the six phases of the method."""

    OUVERTURE = "ouverture", "Tour d'ouverture : suivi du dernier plan d'action"
    EXPOSE = "expose", "1. Exposé de la situation par le client"
    CLARIFICATION = "clarification", "2. Clarification : questions des consultants"
    CONTRAT = "contrat", "3. Contrat : la demande du client"
    EXPLORATION = "exploration", "4. Exploration : idées et suggestions des consultants"
    SYNTHESE = "synthese", "5. Synthèse et plan d'action"
    APPRENTISSAGE = "apprentissage", "6. Apprentissages et régulation"


PHASES = list(Phase)


def default_phase_minutes():
    """Timings of a new group: settings.CODEV_PHASE_MINUTES (those of a 2-hour séance)."""
    return {phase.value: int(settings.CODEV_PHASE_MINUTES[phase.value]) for phase in PHASES}


def phase_minutes_errors(minutes, duree):
    """Why ``minutes`` (phase -> minutes) cannot be the timings of a séance of ``duree``
    minutes, or [] when they can: every step at least a minute, and the steps filling
    the séance exactly."""
    errors = []
    values = {}
    for phase in PHASES:
        value = (minutes or {}).get(phase.value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(f"Indiquez la durée de l'étape « {phase.label} » (1 minute au moins).")
        else:
            values[phase.value] = value
    if not errors and duree and sum(values.values()) != duree:
        total = sum(values.values())
        errors.append(
            f"Les durées des étapes font {total} minutes en tout, pour une séance de "
            f"{duree} minutes : ajustez-les (ou la durée de la séance) pour que leur "
            "somme soit égale à la durée de la séance."
        )
    return errors


class GroupeQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "structure")

    def of_user(self, user):
        """Groups the user animates or belongs to (not left). The membership is an
        ``IN (subquery)``: no join, so no duplicate rows and no DISTINCT."""
        members = Membre.objects.filter(cadre__user=user, date_sortie__isnull=True)
        return self.filter(models.Q(animateur=user) | models.Q(pk__in=members.values("groupe")))


class Animation(models.TextChoices):
    INTERNE = "interne", "Animateur interne"
    EXTERNE = "externe", "Animateur d'un prestataire externe (sur devis)"


class Groupe(models.Model):
    nom = models.CharField("nom du groupe", max_length=150)
    theme = models.CharField("thème", max_length=255, blank=True)
    structure = models.ForeignKey(
        Structure,
        verbose_name="structure organisatrice",
        on_delete=models.PROTECT,
        related_name="groupes_codev",
        help_text="Le groupe relève du périmètre des délégués de cette structure.",
    )
    animateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="animateur",
        on_delete=models.PROTECT,
        related_name="groupes_animes",
    )
    # An external provider's animateur runs the group on a quote ("sur devis"): its cost
    # shows in the délégués' view of external spending (coaching/budget.py).
    animation = models.CharField(
        "animation", max_length=10, choices=Animation.choices, default=Animation.INTERNE
    )
    prestataire = models.CharField(
        "organisme prestataire", max_length=255, blank=True, help_text="Animation externe."
    )
    montant_devis = models.DecimalField(
        "montant du devis (€ TTC)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Animation externe : le devis du cycle entier.",
    )
    bon_de_commande = models.CharField("référence du bon de commande", max_length=60, blank=True)
    mode = models.CharField(
        "modalité", max_length=12, choices=Mode.choices, default=Mode.PRESENTIEL
    )
    lieu = models.CharField("lieu", max_length=255, blank=True)
    lien_visio = models.URLField("lien de visioconférence", blank=True)
    date_debut = models.DateField("début du cycle")
    date_fin = models.DateField("fin du cycle")
    rythme_semaines = models.PositiveSmallIntegerField(
        "rythme (semaines entre deux séances)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    nb_seances_cible = models.PositiveSmallIntegerField(
        "nombre de séances visé",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Laissez vide pour autant de séances que de membres : chacun est client "
        "une fois.",
    )
    heure = models.TimeField("heure des séances", default=time(14, 0))
    duree = models.PositiveIntegerField(
        "durée d'une séance (minutes)",
        default=120,
        validators=[MinValueValidator(60), MaxValueValidator(240)],
    )
    # Minutes of each step (phase value -> minutes), summing to ``duree``.
    durees_phases = models.JSONField(
        "durée de chaque étape (minutes)", default=default_phase_minutes
    )
    cree_le = models.DateTimeField("créé le", auto_now_add=True)

    objects = GroupeQuerySet.as_manager()

    class Meta:
        verbose_name = "groupe de codéveloppement"
        verbose_name_plural = "groupes de codéveloppement"
        ordering = ["-date_debut", "nom"]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("codev:groupe", args=[self.pk])

    def clean(self):
        errors = {}
        if self.date_debut and self.date_fin and self.date_fin <= self.date_debut:
            errors["date_fin"] = "La fin du cycle doit suivre son début."
        if self.mode == Mode.DISTANCIEL and not self.lien_visio:
            errors["lien_visio"] = "Indiquez le lien de visioconférence."
        if self.animation == Animation.EXTERNE:
            if not self.prestataire.strip():
                errors["prestataire"] = "Indiquez l'organisme prestataire de l'animation externe."
            if self.montant_devis is None:
                errors["montant_devis"] = "Indiquez le montant du devis de l'animation externe."
        elif self.prestataire or self.montant_devis is not None or self.bon_de_commande:
            errors["animation"] = (
                "Un prestataire, un devis ou un bon de commande ne concernent qu'une animation "
                "externe : choisissez-la, ou videz ces champs."
            )
        # On ``duree``, a field of every form of the group (admin and facilitator space).
        timings = phase_minutes_errors(self.durees_phases, self.duree)
        if timings:
            errors["duree"] = timings
        if errors:
            raise ValidationError(errors)

    def phase_minutes(self):
        """Minutes of each step, in phase order."""
        return {phase.value: self.durees_phases[phase.value] for phase in PHASES}

    def cycle_warnings(self):
        """What is outside the usual frame of a cycle (a séance every 2 to 6 weeks, over
        6 to 12 months): allowed, once the animateur or the délégué has confirmed it."""
        return cycle_warnings(self.rythme_semaines, self.date_debut, self.date_fin)

    def nb_seances(self):
        """Séances of the cycle: the target, or by default one per active member."""
        if self.nb_seances_cible:
            return self.nb_seances_cible
        return self.membres.actifs().count() if self.pk else 0


def cycle_warnings(rythme, date_debut, date_fin):
    warnings = []
    low, high = RYTHME_USUEL
    if rythme and not low <= rythme <= high:
        every = "chaque semaine" if rythme == 1 else f"toutes les {rythme} semaines"
        warnings.append(
            f"Une séance {every} : le rythme habituel est d'une séance toutes les {low} à "
            f"{high} semaines."
        )
    low, high = DUREE_CYCLE_MOIS
    if date_debut and date_fin and date_fin > date_debut:
        if date_fin < date_debut + relativedelta(months=low):
            warnings.append(
                f"Un cycle de moins de {low} mois : il dure d'habitude {low} à {high} mois."
            )
        elif date_fin > date_debut + relativedelta(months=high):
            warnings.append(
                f"Un cycle de plus de {high} mois : il dure d'habitude {low} à {high} mois."
            )
    return warnings


class MembreQuerySet(models.QuerySet):
    def actifs(self, on=None):
        """Members today (not left), or members on the day ``on``."""
        if on is None:
            return self.filter(date_sortie__isnull=True)
        return self.filter(date_entree__lte=on).exclude(date_sortie__lt=on)


class Membre(models.Model):
    groupe = models.ForeignKey(Groupe, on_delete=models.CASCADE, related_name="membres")
    cadre = models.ForeignKey(
        Cadre, verbose_name="cadre", on_delete=models.PROTECT, related_name="membres_codev"
    )
    date_entree = models.DateField("entré(e) le")
    date_sortie = models.DateField("sorti(e) le", null=True, blank=True)

    objects = MembreQuerySet.as_manager()

    class Meta:
        verbose_name = "membre"
        verbose_name_plural = "membres"
        ordering = ["date_entree", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["groupe", "cadre"], name="membre_unique_par_groupe")
        ]

    def __str__(self):
        return str(self.cadre)


class Seance(Session):
    dispositif = Dispositif.CODEV

    class Consultation(models.TextChoices):
        IDEES = "idees", "Des idées et des pistes d'action"
        CONSEILS = "conseils", "Des conseils"
        TEMOIGNAGES = "temoignages", "Des témoignages d'expériences"
        QUESTIONNEMENT = "questionnement", "Un questionnement pour y voir plus clair"
        RESSOURCES = "ressources", "Des ressources, des contacts"

    groupe = models.ForeignKey(Groupe, on_delete=models.CASCADE, related_name="seances")
    numero = models.PositiveSmallIntegerField("séance n°")
    client = models.ForeignKey(
        Membre,
        verbose_name="client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="seances_client",
    )
    # The runner's state lives here, so that a reload (or another device) resumes it.
    phase = models.CharField("phase en cours", max_length=20, choices=Phase.choices, blank=True)
    phase_debut = models.DateTimeField("début de la phase en cours", null=True, blank=True)
    commencee_le = models.DateTimeField("séance commencée le", null=True, blank=True)
    # While paused the countdowns stop; resuming shifts the starts by the pause.
    en_pause_depuis = models.DateTimeField("en pause depuis", null=True, blank=True)
    terminee_le = models.DateTimeField("séance close le", null=True, blank=True)
    # The group's timings when the séance started: a later change does not rewrite it.
    durees_phases = models.JSONField("durée de chaque étape (minutes)", null=True, blank=True)
    # Content: for the group only.
    probleme = models.TextField("problématique exposée par le client", blank=True)
    consultation = models.CharField(
        "type de consultation demandée", max_length=20, choices=Consultation.choices, blank=True
    )
    contrat = models.TextField("demande du client (contrat)", blank=True)
    note_regulation = models.PositiveSmallIntegerField(
        "appréciation de la séance par le groupe (1 à 5)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )

    class Meta:
        verbose_name = "séance de codéveloppement"
        verbose_name_plural = "séances de codéveloppement"
        ordering = ["groupe", "numero"]
        constraints = [models.UniqueConstraint(fields=["groupe", "numero"], name="seance_numero")]

    def __str__(self):
        return f"{self.groupe} – séance n° {self.numero}"

    def get_absolute_url(self):
        return reverse("codev:seance", args=[self.pk])

    participants_related = ("groupe__animateur",)
    participants_prefetch = ("groupe__membres__cadre__user",)

    def participants(self):
        groupe = self.groupe
        users = [groupe.animateur]
        day = self.jour
        for membre in groupe.membres.all():
            if membre.date_entree <= day and (
                membre.date_sortie is None or membre.date_sortie >= day
            ):
                users.append(membre.cadre.user)
        return [u for u in users if u is not None]

    @property
    def jour(self):
        """The séance's day in local time (``debut`` read back from the database is in
        UTC: a séance at 00:30 in Paris falls on the day before there)."""
        return timezone.localtime(self.debut).date()

    def titre_agenda(self):
        return f"Codéveloppement – {self.groupe.nom}, séance n° {self.numero}"

    @property
    def phase_index(self):
        return PHASES.index(Phase(self.phase)) if self.phase else -1

    def phase_minutes(self):
        """Minutes of each step: as they were when the séance started, else the group's."""
        if self.durees_phases:
            return {phase.value: self.durees_phases[phase.value] for phase in PHASES}
        return self.groupe.phase_minutes()

    def phase_fin(self):
        if not self.phase:
            return None
        return self.phase_debut + timedelta(minutes=self.phase_minutes()[self.phase])

    def fin_prevue(self):
        """When the séance should end: its actual start plus its steps."""
        if not self.commencee_le:
            return None
        return self.commencee_le + timedelta(minutes=sum(self.phase_minutes().values()))


class Presence(models.Model):
    seance = models.ForeignKey(Seance, on_delete=models.CASCADE, related_name="presences")
    membre = models.ForeignKey(Membre, on_delete=models.CASCADE, related_name="presences")
    present = models.BooleanField("présent(e)", default=True)

    class Meta:
        verbose_name = "présence"
        verbose_name_plural = "présences"
        constraints = [models.UniqueConstraint(fields=["seance", "membre"], name="presence_unique")]

    def __str__(self):
        return f"{self.membre} – {'présent' if self.present else 'absent'}"


class PlanAction(models.Model):
    """The client's action plan (phase 5), followed up at the next séance."""

    seance = models.OneToOneField(Seance, on_delete=models.CASCADE, related_name="plan_action")
    membre = models.ForeignKey(Membre, on_delete=models.CASCADE, related_name="plans_action")
    actions = models.TextField("actions décidées")
    suivi = models.TextField("suivi à la séance suivante", blank=True)
    ecrit_le = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "plan d'action"
        verbose_name_plural = "plans d'action"

    def __str__(self):
        return f"Plan d'action de {self.membre}"


class Apprentissage(models.Model):
    """What a participant takes away from the séance (phase 6)."""

    seance = models.ForeignKey(Seance, on_delete=models.CASCADE, related_name="apprentissages")
    membre = models.ForeignKey(Membre, on_delete=models.CASCADE, related_name="apprentissages")
    texte = models.TextField("mes apprentissages")

    class Meta:
        verbose_name = "apprentissage"
        verbose_name_plural = "apprentissages"
        constraints = [
            models.UniqueConstraint(fields=["seance", "membre"], name="apprentissage_unique")
        ]

    def __str__(self):
        return f"Apprentissages de {self.membre}"


# --- The four-A evaluation -------------------------------------------------------


class Note(models.IntegerChoices):
    PAS_DU_TOUT = 1, "1 – pas du tout"
    PEU = 2, "2 – peu"
    MOYENNEMENT = 3, "3 – moyennement"
    BIEN = 4, "4 – bien"
    TOUT_A_FAIT = 5, "5 – tout à fait"


# The four A, in order: (field, label, question).
QUATRE_A = [
    ("appreciation", "Appréciation", "Avez-vous apprécié cette séance ?"),
    ("attentes", "Attentes", "La séance a-t-elle répondu à vos attentes ?"),
    ("apprentissages", "Apprentissages", "Avez-vous appris quelque chose d'utile pour vous ?"),
    ("applications", "Applications", "Mettrez-vous en pratique ce que vous avez appris ?"),
]


def _note(label):
    return models.PositiveSmallIntegerField(label, choices=Note.choices)


class EvaluationSeance(models.Model):
    """One answer to the four-A evaluation of a séance, anonymous: it names no member
    and bears no date, and its id is random, so that neither the order of the rows nor
    a time ties it to the ``EvaluationRendue`` written with it. Only aggregates of at
    least three answers are shown (``services.evaluation_figures``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seance = models.ForeignKey(Seance, on_delete=models.CASCADE, related_name="evaluations")
    appreciation = _note("appréciation")
    attentes = _note("attentes")
    apprentissages = _note("apprentissages")
    applications = _note("applications")

    class Meta:
        verbose_name = "évaluation de séance (4 A)"
        verbose_name_plural = "évaluations de séance (4 A)"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(appreciation__range=(1, 5))
                & models.Q(attentes__range=(1, 5))
                & models.Q(apprentissages__range=(1, 5))
                & models.Q(applications__range=(1, 5)),
                name="evaluation_seance_notes_1_a_5",
            )
        ]

    def __str__(self):
        return f"Évaluation anonyme – {self.seance}"


class EvaluationRendue(models.Model):
    """That a member has answered the evaluation of a séance (never what): one answer
    per member and séance."""

    seance = models.ForeignKey(Seance, on_delete=models.CASCADE, related_name="evaluations_rendues")
    membre = models.ForeignKey(Membre, on_delete=models.CASCADE, related_name="evaluations_rendues")

    class Meta:
        verbose_name = "évaluation rendue"
        verbose_name_plural = "évaluations rendues"
        constraints = [
            models.UniqueConstraint(fields=["seance", "membre"], name="evaluation_rendue_unique")
        ]

    def __str__(self):
        return f"{self.membre} a évalué {self.seance}"
