"""Coaching: the coach pool, engagements, their sessions and the coach's private notes."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse

from accompagnement.models import Demande, Dispositif, Session
from cadres.models import Cadre, Structure

MIN_SEANCES = 1
MAX_SEANCES = 20


class Specialite(models.Model):
    """A coaching speciality (referential). ``code`` matches a coaching motif where
    it is one, which lets the suggestion engine compare them."""

    code = models.SlugField("code", max_length=40, unique=True)
    libelle = models.CharField("libellé", max_length=120)

    class Meta:
        verbose_name = "spécialité"
        verbose_name_plural = "spécialités"
        ordering = ["libelle"]

    def __str__(self):
        return self.libelle


class CoachQuerySet(models.QuerySet):
    def with_load(self):
        """Annotate ``charge``: engagements under way (contracted or running)."""
        return self.annotate(
            charge=Count("coachings", filter=Q(coachings__statut__in=Coaching.ACTIVE_STATUSES))
        )


class Coach(models.Model):
    class Type(models.TextChoices):
        INTERNE = "interne", "Interne (agent public formé au coaching)"
        EXTERNE = "externe", "Externe (prestataire)"

    type = models.CharField("type", max_length=10, choices=Type.choices)
    civilite = models.CharField("civilité", max_length=3, choices=Cadre.Civilite.choices)
    nom = models.CharField("nom", max_length=150)
    prenom = models.CharField("prénom", max_length=150)
    email = models.EmailField("adresse électronique", unique=True)
    telephone = models.CharField("téléphone", max_length=30, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coach",
    )
    # Internal coaches work somewhere: they never coach someone in their own line.
    structure = models.ForeignKey(
        Structure,
        verbose_name="structure d'affectation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coachs",
        help_text="Coachs internes : leur structure, pour éviter tout lien hiérarchique.",
    )
    organisme = models.CharField(
        "organisme prestataire", max_length=255, blank=True, help_text="Coachs externes."
    )
    contact_organisme = models.CharField("contact chez le prestataire", max_length=255, blank=True)
    tarif_seance = models.DecimalField(
        "tarif par séance (devis, € TTC)",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    specialites = models.ManyToManyField(
        Specialite, verbose_name="spécialités", blank=True, related_name="coachs"
    )
    langues = models.CharField("langues", max_length=255, default="français")
    capacite = models.PositiveSmallIntegerField(
        "capacité (coachings simultanés)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    biographie = models.TextField("présentation", blank=True)
    actif = models.BooleanField("actif", default=True)

    objects = CoachQuerySet.as_manager()

    class Meta:
        verbose_name = "coach"
        verbose_name_plural = "coachs"
        ordering = ["nom", "prenom"]

    def __str__(self):
        return f"{self.prenom} {self.nom.upper()}"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.type == self.Type.EXTERNE and not self.organisme:
            raise ValidationError({"organisme": "Indiquez l'organisme du coach externe."})
        if self.type == self.Type.INTERNE and not self.structure_id:
            raise ValidationError(
                {"structure": "Indiquez la structure du coach interne (conflits d'intérêts)."}
            )


class Certification(models.Model):
    """A coaching accreditation: ICF ACC/PCC/MCC, EMCC, an RNCP title..."""

    class Organisme(models.TextChoices):
        ICF = "icf", "ICF (International Coaching Federation)"
        EMCC = "emcc", "EMCC (European Mentoring and Coaching Council)"
        RNCP = "rncp", "Titre RNCP de coach"
        SFCOACH = "sfcoach", "SF Coach"
        AUTRE = "autre", "Autre"

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="certifications")
    organisme = models.CharField("organisme", max_length=10, choices=Organisme.choices)
    niveau = models.CharField("niveau ou intitulé", max_length=120, help_text="ACC, PCC, MCC…")
    obtenue_le = models.DateField("obtenue le", null=True, blank=True)
    expire_le = models.DateField("expire le", null=True, blank=True)

    class Meta:
        verbose_name = "certification"
        verbose_name_plural = "certifications"
        ordering = ["organisme", "niveau"]

    def __str__(self):
        return f"{self.get_organisme_display()} – {self.niveau}"


class CoachingQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "cadre__structure")


class Coaching(models.Model):
    """A coaching engagement: one cadre, one coach, a set of sessions."""

    class Origine(models.TextChoices):
        ADMINISTRATION = "administration", "Proposé par l'administration"
        CADRE = "cadre", "Sollicité par le cadre"

    class Motif(models.TextChoices):
        PRISE_DE_POSTE = "prise_de_poste", "Prise de poste"
        DIFFICULTE = "difficulte", "Difficulté particulière"
        TRANSFORMATION = "transformation", "Accompagnement d'une transformation"
        DEBOUCHE = "debouche", "Recherche de débouché professionnel"

    class Statut(models.TextChoices):
        A_AFFECTER = "a_affecter", "À affecter"
        CONTRACTUALISE = "contractualise", "Contractualisé"
        EN_COURS = "en_cours", "En cours"
        TERMINE = "termine", "Terminé"
        INTERROMPU = "interrompu", "Interrompu"

    ACTIVE_STATUSES = (Statut.CONTRACTUALISE, Statut.EN_COURS)
    TRANSITIONS = {
        Statut.A_AFFECTER: {Statut.CONTRACTUALISE, Statut.INTERROMPU},
        Statut.CONTRACTUALISE: {Statut.EN_COURS, Statut.INTERROMPU},
        Statut.EN_COURS: {Statut.TERMINE, Statut.INTERROMPU},
        Statut.TERMINE: set(),
        Statut.INTERROMPU: set(),
    }

    cadre = models.ForeignKey(
        Cadre, verbose_name="cadre", on_delete=models.PROTECT, related_name="coachings"
    )
    coach = models.ForeignKey(
        Coach,
        verbose_name="coach",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coachings",
    )
    demande = models.OneToOneField(
        Demande,
        verbose_name="demande d'origine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coaching",
    )
    origine = models.CharField(
        "origine", max_length=20, choices=Origine.choices, default=Origine.ADMINISTRATION
    )
    motif = models.CharField("motif", max_length=20, choices=Motif.choices)
    objectifs = models.TextField(
        "objectifs", blank=True, help_text="Fixés lors de la réunion tripartite de lancement."
    )
    reunion_tripartite_le = models.DateField(
        "réunion tripartite de lancement", null=True, blank=True
    )
    reunion_cloture_le = models.DateField("réunion tripartite de clôture", null=True, blank=True)
    nb_seances_prevues = models.PositiveSmallIntegerField(
        "nombre de séances prévues",
        default=6,
        validators=[MinValueValidator(MIN_SEANCES), MaxValueValidator(MAX_SEANCES)],
    )
    date_debut = models.DateField("début", null=True, blank=True)
    date_fin = models.DateField("fin", null=True, blank=True)
    statut = models.CharField(
        "statut", max_length=20, choices=Statut.choices, default=Statut.A_AFFECTER, db_index=True
    )
    montant_devis = models.DecimalField(
        "montant du devis (€ TTC)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    bon_de_commande = models.CharField("référence du bon de commande", max_length=60, blank=True)
    cree_le = models.DateTimeField("créé le", auto_now_add=True)

    objects = CoachingQuerySet.as_manager()

    class Meta:
        verbose_name = "coaching"
        verbose_name_plural = "coachings"
        ordering = ["-cree_le"]
        indexes = [
            # The admin list's order, and its date hierarchy.
            models.Index(fields=["-cree_le", "-id"], name="coaching_cree_le"),
            models.Index(fields=["date_debut"], name="coaching_date_debut"),
        ]

    def __str__(self):
        return f"Coaching de {self.cadre}"

    def get_absolute_url(self):
        return reverse("coaching:detail", args=[self.pk])

    @property
    def is_external(self):
        return self.coach_id is not None and self.coach.type == Coach.Type.EXTERNE


class SeanceCoaching(Session):
    dispositif = Dispositif.COACHING

    coaching = models.ForeignKey(Coaching, on_delete=models.CASCADE, related_name="seances")
    numero = models.PositiveSmallIntegerField("séance n°")
    # The cadre may ask the coach to move a session; the coach reschedules it.
    report_demande_le = models.DateTimeField("report demandé le", null=True, blank=True)
    report_motif = models.CharField("motif du report demandé", max_length=255, blank=True)

    class Meta:
        verbose_name = "séance de coaching"
        verbose_name_plural = "séances de coaching"
        ordering = ["coaching", "numero"]
        constraints = [
            models.UniqueConstraint(fields=["coaching", "numero"], name="seance_coaching_numero")
        ]

    def __str__(self):
        return f"Séance n° {self.numero} – {self.coaching.cadre}"

    def participants(self):
        coaching = self.coaching
        users = [coaching.cadre.user, coaching.coach.user if coaching.coach_id else None]
        return [u for u in users if u is not None]

    def titre_agenda(self):
        return f"Coaching – séance n° {self.numero}"


class NoteCoach(models.Model):
    """The coach's private notes. Nobody else reads them, administrators included:
    no admin page, no export, only their author in the portal."""

    coaching = models.ForeignKey(Coaching, on_delete=models.CASCADE, related_name="notes")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    texte = models.TextField("note")
    cree_le = models.DateTimeField("écrite le", auto_now_add=True)

    class Meta:
        verbose_name = "note privée du coach"
        verbose_name_plural = "notes privées du coach"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"Note du {self.cree_le:%d/%m/%Y}"
