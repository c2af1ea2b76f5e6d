"""What every scheme shares: requests, the session shape, the outbox, calendar
feeds and end-of-programme evaluations."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from cadres.models import Cadre


class Dispositif(models.TextChoices):
    COACHING = "coaching", "Coaching"
    MENTORAT = "mentorat", "Mentorat"
    CODEV = "codev", "Codéveloppement professionnel"
    IMMERSION = "immersion", "Période d'immersion professionnelle"


class Mode(models.TextChoices):
    PRESENTIEL = "presentiel", "Présentiel"
    DISTANCIEL = "distanciel", "Distanciel"


def add_one_month(moment):
    """Same day next month (the last day when it does not exist): the decision deadline."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class DemandeQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "cadre__structure")

    def open(self):
        return self.filter(statut__in=Demande.OPEN_STATUSES)

    def overdue(self, today=None):
        return self.open().filter(echeance__lt=today or timezone.localdate())


class Demande(models.Model):
    """A request for a scheme, from the cadre (portal) or the administration (admin)."""

    class Statut(models.TextChoices):
        SOUMISE = "soumise", "Soumise"
        EN_INSTRUCTION = "en_instruction", "En instruction"
        ACCEPTEE = "acceptee", "Acceptée"
        REFUSEE = "refusee", "Refusée"
        REPORTEE = "reportee", "Reportée"

    class Contexte(models.TextChoices):
        PRISE_DE_POSTE = "prise_de_poste", "Prise de poste"
        DIFFICULTE = "difficulte", "Difficulté particulière"
        TRANSFORMATION = "transformation", "Accompagnement d'une transformation"
        DEBOUCHE = "debouche", "Recherche de débouché professionnel"
        CYCLE = "cycle_developpement", "Cycle de développement"
        VIVIER = "vivier", "Vivier"

    class Origine(models.TextChoices):
        CADRE = "cadre", "Sollicitée par le cadre"
        ADMINISTRATION = "administration", "Proposée par l'administration"

    OPEN_STATUSES = (Statut.SOUMISE, Statut.EN_INSTRUCTION)
    DECISIONS = (Statut.ACCEPTEE, Statut.REFUSEE, Statut.REPORTEE)
    # Which status may follow which. A postponed request can be taken up again.
    TRANSITIONS = {
        Statut.SOUMISE: {Statut.EN_INSTRUCTION, *DECISIONS},
        Statut.EN_INSTRUCTION: set(DECISIONS),
        Statut.REPORTEE: {Statut.EN_INSTRUCTION, Statut.ACCEPTEE, Statut.REFUSEE},
        Statut.ACCEPTEE: set(),
        Statut.REFUSEE: set(),
    }

    cadre = models.ForeignKey(
        Cadre, verbose_name="cadre", on_delete=models.CASCADE, related_name="demandes"
    )
    dispositif = models.CharField("dispositif", max_length=20, choices=Dispositif.choices)
    contexte = models.CharField("contexte", max_length=30, choices=Contexte.choices)
    motivation = models.TextField("motivation")
    date_debut_souhaitee = models.DateField("début souhaité", null=True, blank=True)
    date_fin_souhaitee = models.DateField("fin souhaitée", null=True, blank=True)
    origine = models.CharField(
        "origine", max_length=20, choices=Origine.choices, default=Origine.CADRE
    )
    statut = models.CharField(
        "statut", max_length=20, choices=Statut.choices, default=Statut.SOUMISE, db_index=True
    )
    motif_decision = models.TextField("motif de la décision", blank=True)
    delegue = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="délégué en charge",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demandes_suivies",
    )
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidée par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decidee_le = models.DateTimeField("décidée le", null=True, blank=True)
    recue_le = models.DateTimeField("reçue le", default=timezone.now)
    echeance = models.DateField("décision attendue avant le", editable=False)
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisie par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The programme created on acceptance, in the scheme's own app.
    programme_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    programme_id = models.PositiveBigIntegerField(null=True, blank=True)
    programme = GenericForeignKey("programme_type", "programme_id")

    objects = DemandeQuerySet.as_manager()

    class Meta:
        verbose_name = "demande"
        verbose_name_plural = "demandes"
        ordering = ["-recue_le"]
        indexes = [
            models.Index(
                fields=["echeance"],
                name="demande_open_echeance",
                condition=Q(statut__in=["soumise", "en_instruction"]),
            ),
            # The admin list's order (and its date hierarchy): a page is read from it.
            models.Index(fields=["-recue_le", "-id"], name="demande_recue_le"),
        ]

    def __str__(self):
        return f"{self.get_dispositif_display()} – {self.cadre} ({self.get_statut_display()})"

    def save(self, *args, **kwargs):
        # Derived from the reception date in local time (a UTC date is the day before
        # late in the evening), and moved along when that date is corrected.
        self.echeance = add_one_month(timezone.localtime(self.recue_le)).date()
        super().save(*args, **kwargs)

    @property
    def is_open(self):
        return self.statut in self.OPEN_STATUSES

    @property
    def is_overdue(self):
        return self.is_open and self.echeance < timezone.localdate()

    @property
    def delai_decision(self):
        """Days taken to decide, or elapsed so far."""
        end = self.decidee_le or timezone.now()
        return (end - self.recue_le).days


class Session(models.Model):
    """The one shape of every dated meeting of every scheme (coaching session,
    mentoring meeting, co-development séance, immersion day...).

    A concrete session says who takes part (``participants()``) and how it is
    titled (``titre_agenda()``); saving it keeps its reminders in the outbox in step,
    in the same transaction, so reminders and calendar come for free.
    """

    class Statut(models.TextChoices):
        PLANIFIEE = "planifiee", "Planifiée"
        REALISEE = "realisee", "Réalisée"
        ANNULEE = "annulee", "Annulée"
        REPORTEE = "reportee", "Reportée"

    debut = models.DateTimeField("début", db_index=True)
    duree = models.PositiveIntegerField(
        "durée (minutes)",
        default=60,
        validators=[MinValueValidator(15), MaxValueValidator(12 * 60)],
    )
    mode = models.CharField(
        "modalité", max_length=12, choices=Mode.choices, default=Mode.PRESENTIEL
    )
    lieu = models.CharField("lieu", max_length=255, blank=True)
    lien_visio = models.URLField("lien de visioconférence", blank=True)
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.PLANIFIEE
    )
    # iCalendar SEQUENCE: bumped at each change so that calendars update the event.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    modifiee_le = models.DateTimeField(auto_now=True)

    dispositif = None  # set by each concrete class to a Dispositif value
    # What participants() and titre_agenda() read, loaded along with many sessions at
    # once (the outbox renders reminders by batches of hundreds): select_related and
    # prefetch_related paths, set by each concrete class.
    participants_related = ()
    participants_prefetch = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        from .services.sessions import sync_session_notifications

        if self.pk:
            self.sequence += 1
        with transaction.atomic():  # the session and its reminders, or neither
            super().save(*args, **kwargs)
            sync_session_notifications(self)

    @classmethod
    def with_participants(cls, queryset):
        if cls.participants_related:  # select_related() without paths follows every FK
            queryset = queryset.select_related(*cls.participants_related)
        return queryset.prefetch_related(*cls.participants_prefetch)

    @property
    def fin(self):
        return self.debut + timedelta(minutes=self.duree)

    @property
    def is_active(self):
        return self.statut == self.Statut.PLANIFIEE

    @property
    def dispositif_label(self):
        return Dispositif(self.dispositif).label

    def participants(self):
        """Users to remind and whose calendar shows the session."""
        raise NotImplementedError

    def titre_agenda(self):
        return self.dispositif_label

    def ics_uid(self):
        return f"{self._meta.label_lower}-{self.pk}@accompagnement-cadres"


class NotificationQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(statut=Notification.Statut.EN_ATTENTE, due_at__lte=now or timezone.now())


class Notification(models.Model):
    """The outbox. A row is written in the transaction of the change that causes it;
    the beat sweep sends due rows. The unique key makes every mail exactly-once."""

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        ENVOI = "envoi", "Envoi en cours"
        ENVOYEE = "envoyee", "Envoyée"
        ANNULEE = "annulee", "Annulée"
        ECHEC = "echec", "En échec"

    kind = models.CharField("type", max_length=50)
    object_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("object_type", "object_id")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="destinataire",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    email = models.EmailField("adresse")
    due_at = models.DateTimeField("à envoyer le")
    # The date the notification is about (a reminder's due date, a cancelled
    # session's start, a decision's time): with kind, object and recipient, the key
    # that makes it exactly-once.
    reference_at = models.DateTimeField("date de référence")
    context = models.JSONField("contexte", default=dict, blank=True)
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE
    )
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField("envoyée le", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications (boîte d'envoi)"
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_type", "object_id", "email", "reference_at"],
                name="notification_exactly_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="notification_pending", condition=Q(statut="en_attente")
            ),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self):
        return f"{self.kind} → {self.email} ({self.due_at:%d/%m/%Y %H:%M})"


def new_feed_token():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's secret ICS feed address. Revoking it issues a new token."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "flux d'agenda"
        verbose_name_plural = "flux d'agenda"

    def __str__(self):
        return f"Agenda de {self.user}"


class Evaluation(models.Model):
    """End-of-programme questionnaire: one per participant and programme."""

    class Objectifs(models.TextChoices):
        OUI = "oui", "Oui"
        PARTIELLEMENT = "partiellement", "Partiellement"
        NON = "non", "Non"

    dispositif = models.CharField("dispositif", max_length=20, choices=Dispositif.choices)
    programme_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    programme_id = models.PositiveBigIntegerField()
    programme = GenericForeignKey("programme_type", "programme_id")
    # The cadre the programme is about (perimeter scoping), and who answers.
    cadre = models.ForeignKey(
        Cadre, verbose_name="cadre accompagné", on_delete=models.CASCADE, related_name="+"
    )
    participant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="participant",
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    satisfaction = models.PositiveSmallIntegerField(
        "satisfaction (1 à 5)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    objectifs_atteints = models.CharField(
        "objectifs atteints", max_length=15, choices=Objectifs.choices, blank=True
    )
    commentaire = models.TextField("commentaire", blank=True)
    demandee_le = models.DateTimeField("demandée le", default=timezone.now)
    remplie_le = models.DateTimeField("remplie le", null=True, blank=True)

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        ordering = ["-demandee_le"]
        indexes = [models.Index(fields=["-demandee_le", "-id"], name="evaluation_demandee_le")]
        constraints = [
            models.UniqueConstraint(
                fields=["programme_type", "programme_id", "participant"],
                name="evaluation_one_per_participant",
            )
        ]

    def __str__(self):
        return f"Évaluation {self.get_dispositif_display()} – {self.participant}"

    @property
    def is_pending(self):
        return self.remplie_le is None
