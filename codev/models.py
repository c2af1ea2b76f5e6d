"""Co-development (codéveloppement professionnel): groups of at most 8 peers, a cycle of
séances with a rotating client, the six phases, attendance and action plans.

What is said in a group stays in the group: HR (admin) sees attendance and counts only;
problem statements, contracts, action plans and learnings are shown to the group only."""

from datetime import time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Dispositif, Mode, Session
from cadres.models import Cadre, Structure

MAX_MEMBRES = 8


class GroupeQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "structure")


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
        default=MAX_MEMBRES,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Par défaut autant que de membres, pour que chacun soit client une fois.",
    )
    heure = models.TimeField("heure des séances", default=time(14, 0))
    duree = models.PositiveIntegerField(
        "durée d'une séance (minutes)",
        default=120,
        validators=[MinValueValidator(60), MaxValueValidator(240)],
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
        from django.core.exceptions import ValidationError

        if self.date_debut and self.date_fin and self.date_fin <= self.date_debut:
            raise ValidationError({"date_fin": "La fin du cycle doit suivre son début."})
        if self.mode == Mode.DISTANCIEL and not self.lien_visio:
            raise ValidationError({"lien_visio": "Indiquez le lien de visioconférence."})


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
    terminee_le = models.DateTimeField("séance close le", null=True, blank=True)
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

    def phase_fin(self):
        if not self.phase:
            return None
        return self.phase_debut + timedelta(minutes=phase_durations()[self.phase])


def phase_durations():
    """Minutes per phase (settings.CODEV_PHASE_MINUTES), in phase order."""
    return {phase.value: settings.CODEV_PHASE_MINUTES[phase.value] for phase in PHASES}


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
