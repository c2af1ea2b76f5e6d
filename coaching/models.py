"""Coaching: the coach pool, engagements, their sessions and the coach's private notes."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accompagnement.models import Demande, Dispositif, Session
from cadres.models import Cadre, Structure

MIN_SEANCES = 1
MAX_SEANCES = 20
# Sessions that use the allowance: all but cancelled ones, which give their place back.
USED_STATUSES = ("planifiee", "realisee", "reportee")
# Délégués see, and are reminded of, accreditations that expire within this many days.
EXPIRY_WARNING_DAYS = 60


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

    def eligible(self, today=None):
        """Coaches who may be assigned or shortlisted: the queryset form of
        ``Coach.ineligibility_reasons`` (active, a valid accreditation, charter signed)."""
        today = today or timezone.localdate()
        valid = Certification.objects.filter(coach=OuterRef("pk")).valid(today)
        return self.filter(actif=True, charte_signee_le__lte=today).filter(Exists(valid))

    def accreditation_expiring(self, today=None, days=EXPIRY_WARNING_DAYS):
        """Coaches with an accreditation expiring between today and ``days`` from now."""
        return self.filter(
            Exists(Certification.objects.filter(coach=OuterRef("pk")).expiring(today, days))
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
    charte_signee_le = models.DateField(
        "charte de déontologie signée le",
        null=True,
        blank=True,
        help_text="Sans charte signée, le coach ne peut être ni affecté ni présélectionné.",
    )

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

    def ineligibility_reasons(self, today=None):
        """Why this coach may not be assigned or shortlisted today ([] if they may).
        Reads ``certifications`` (prefetch them for a list)."""
        today = today or timezone.localdate()
        reasons = []
        if not self.actif:
            reasons.append(f"{self} est inactif")
        accreditations = list(self.certifications.all())
        if not accreditations:
            reasons.append(f"{self} n'a aucune accréditation enregistrée")
        elif not any(a.is_valid(today) for a in accreditations):
            last = max(accreditations, key=lambda a: a.expire_le)
            reasons.append(
                f"l'accréditation {last.label} de {self} a expiré le "
                f"{date_format(last.expire_le, 'j F Y')}"
            )
        if self.charte_signee_le is None or self.charte_signee_le > today:
            reasons.append(f"{self} n'a pas signé la charte de déontologie")
        return reasons

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.charte_signee_le and self.charte_signee_le > timezone.localdate():
            raise ValidationError(
                {"charte_signee_le": "La charte ne peut pas être signée dans le futur."}
            )
        if self.type == self.Type.EXTERNE and not self.organisme:
            raise ValidationError({"organisme": "Indiquez l'organisme du coach externe."})
        if self.type == self.Type.INTERNE and not self.structure_id:
            raise ValidationError(
                {"structure": "Indiquez la structure du coach interne (conflits d'intérêts)."}
            )


class CertificationQuerySet(models.QuerySet):
    def valid(self, today=None):
        """Still valid on ``today`` (no expiry date: never expires), as ``is_valid``."""
        today = today or timezone.localdate()
        return self.filter(Q(expire_le__isnull=True) | Q(expire_le__gte=today))

    def expiring(self, today=None, days=EXPIRY_WARNING_DAYS):
        today = today or timezone.localdate()
        return self.filter(expire_le__gte=today, expire_le__lte=today + timedelta(days=days))


class Certification(models.Model):
    """A coaching accreditation of the coach register: ICF ACC/PCC/MCC, EMCC, an RNCP
    title... One still valid is needed to be assigned; no expiry date means none (a
    title)."""

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
    expire_le = models.DateField(
        "expire le", null=True, blank=True, help_text="Vide pour un titre sans expiration."
    )

    objects = CertificationQuerySet.as_manager()

    class Meta:
        verbose_name = "accréditation"
        verbose_name_plural = "accréditations"
        ordering = ["organisme", "niveau"]
        # The daily reminder and the délégués' filter look for expiry dates in a window.
        indexes = [models.Index(fields=["expire_le"], name="certification_expire_le")]

    def __str__(self):
        return f"{self.get_organisme_display()} – {self.niveau}"

    @property
    def label(self):
        return f"{self.organisme.upper()} {self.niveau}"

    def is_valid(self, today=None):
        return self.expire_le is None or self.expire_le >= (today or timezone.localdate())


class SupervisionAnnuelle(models.Model):
    """Supervision hours a coach declares for a year (the register keeps the history)."""

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="supervisions")
    annee = models.PositiveSmallIntegerField(
        "année", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    heures = models.DecimalField(
        "heures de supervision",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = "supervision annuelle"
        verbose_name_plural = "heures de supervision par année"
        ordering = ["-annee"]
        constraints = [
            models.UniqueConstraint(fields=["coach", "annee"], name="supervision_une_par_annee")
        ]

    def __str__(self):
        return f"{self.annee} : {self.heures} h"


class CoachingQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "cadre__structure")

    def of_user(self, user):
        """Coachings where the user is the coached cadre or the coach. Each side is
        ``key = (scalar subquery)``, which PostgreSQL computes once and looks up in the
        key's index; an OR across two joins reads every coaching instead (23 ms at
        20,000 cadres, on every portal page)."""
        return self.filter(
            Q(cadre=models.Subquery(Cadre.objects.filter(user=user).values("pk")[:1]))
            | Q(coach=models.Subquery(Coach.objects.filter(user=user).values("pk")[:1]))
        )


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

    def allowance(self, seances=None):
        """Used / left of the allowance, from ``seances`` when the caller has them."""
        seances = self.seances.all() if seances is None else seances
        statuts = [s.statut for s in seances]
        realisees = statuts.count(SeanceCoaching.Statut.REALISEE)
        annulees = statuts.count(SeanceCoaching.Statut.ANNULEE)
        return Allowance(
            prevues=self.nb_seances_prevues,
            realisees=realisees,
            planifiees=len(statuts) - realisees - annulees,
        )


@dataclass(frozen=True)
class Allowance:
    """The planned sessions as an allowance: a held or planned session uses one, a
    cancelled one gives it back."""

    prevues: int
    realisees: int
    planifiees: int

    @property
    def utilisees(self):
        return self.realisees + self.planifiees

    @property
    def restantes(self):
        return max(self.prevues - self.utilisees, 0)


class ExtensionForfait(models.Model):
    """A délégué's extension of an engagement's allowance: the reason and the new total
    are kept, so the allowance only grows on the record."""

    coaching = models.ForeignKey(Coaching, on_delete=models.CASCADE, related_name="extensions")
    ancien_total = models.PositiveSmallIntegerField("ancien total de séances")
    nouveau_total = models.PositiveSmallIntegerField("nouveau total de séances")
    motif = models.TextField("raison de la prolongation")
    accordee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="accordée par",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accordee_le = models.DateTimeField("accordée le", default=timezone.now)

    class Meta:
        verbose_name = "prolongation du forfait de séances"
        verbose_name_plural = "prolongations du forfait de séances"
        ordering = ["accordee_le", "pk"]

    def __str__(self):
        return f"{self.ancien_total} → {self.nouveau_total} séances"


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

    participants_related = ("coaching__cadre__user", "coaching__coach__user")

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


# --- Shortlist and discovery meetings -----------------------------------------------

MIN_SHORTLIST = 2
MAX_SHORTLIST = 3


class PreselectionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(statut__in=Preselection.OPEN_STATUSES)


class Preselection(models.Model):
    """Before an engagement is contracted, the délégué shortlists two or three coaches;
    the cadre meets them (discovery meetings), chooses one with a reason, and the
    délégué confirms; or the cadre declines them all and asks for another shortlist.
    One shortlist at a time is open per engagement; closed ones stay as its history."""

    class Statut(models.TextChoices):
        PROPOSEE = "proposee", "Proposée au cadre"
        ENTRETIENS = "entretiens", "Entretiens de découverte"
        CHOIX = "choix", "Choix du cadre à confirmer"
        CONFIRMEE = "confirmee", "Choix confirmé"
        NOUVELLE_DEMANDEE = "nouvelle_demandee", "Autre présélection demandée"
        RETIREE = "retiree", "Retirée par le délégué"

    OPEN_STATUSES = (Statut.PROPOSEE, Statut.ENTRETIENS, Statut.CHOIX)
    # The cadre may choose without meeting anyone (meetings are offered, not imposed);
    # once a choice is stated only the délégué acts: confirm it, or withdraw the list.
    TRANSITIONS = {
        Statut.PROPOSEE: {
            Statut.ENTRETIENS,
            Statut.CHOIX,
            Statut.NOUVELLE_DEMANDEE,
            Statut.RETIREE,
        },
        Statut.ENTRETIENS: {Statut.CHOIX, Statut.NOUVELLE_DEMANDEE, Statut.RETIREE},
        Statut.CHOIX: {Statut.CONFIRMEE, Statut.RETIREE},
        Statut.CONFIRMEE: set(),
        Statut.NOUVELLE_DEMANDEE: set(),
        Statut.RETIREE: set(),
    }

    coaching = models.ForeignKey(Coaching, on_delete=models.CASCADE, related_name="preselections")
    statut = models.CharField(
        "statut", max_length=20, choices=Statut.choices, default=Statut.PROPOSEE
    )
    proposee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="proposée par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposee_le = models.DateTimeField("proposée le", default=timezone.now)
    coach_choisi = models.ForeignKey(
        Coach,
        verbose_name="coach choisi par le cadre",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    motif_choix = models.TextField("raison du choix", blank=True)
    choisie_le = models.DateTimeField("choix exprimé le", null=True, blank=True)
    motif_nouvelle = models.TextField("raison de la demande d'une autre présélection", blank=True)
    motif_retrait = models.TextField("raison du retrait", blank=True)
    cloturee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="close par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cloturee_le = models.DateTimeField("close le", null=True, blank=True)

    objects = PreselectionQuerySet.as_manager()

    class Meta:
        verbose_name = "présélection de coachs"
        verbose_name_plural = "présélections de coachs"
        ordering = ["-proposee_le", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["coaching"],
                condition=Q(statut__in=["proposee", "entretiens", "choix"]),
                name="preselection_une_ouverte",
            )
        ]

    def __str__(self):
        return f"Présélection du {self.proposee_le:%d/%m/%Y} – {self.coaching.cadre}"

    @property
    def is_open(self):
        return self.statut in self.OPEN_STATUSES

    @property
    def cadre_may_act(self):
        return self.statut in (self.Statut.PROPOSEE, self.Statut.ENTRETIENS)


class Proposition(models.Model):
    """A coach on a shortlist. Released (``liberee_le``) when the list closes without
    them: their meetings still to come are cancelled and they are told."""

    preselection = models.ForeignKey(
        Preselection, on_delete=models.CASCADE, related_name="propositions"
    )
    coach = models.ForeignKey(
        Coach, verbose_name="coach", on_delete=models.PROTECT, related_name="propositions"
    )
    liberee_le = models.DateTimeField("libéré le", null=True, blank=True)

    class Meta:
        verbose_name = "coach présélectionné"
        verbose_name_plural = "coachs présélectionnés"
        ordering = ["preselection", "coach__nom", "coach__prenom"]
        constraints = [
            models.UniqueConstraint(
                fields=["preselection", "coach"], name="proposition_une_par_coach"
            )
        ]

    def __str__(self):
        return f"{self.coach} ({self.preselection})"


class EntretienDecouverte(Session):
    """A short discovery meeting of the cadre with a shortlisted coach: the shared
    session shape, so reminders, cancellations and calendars come with it."""

    dispositif = Dispositif.COACHING
    DUREE = 30

    proposition = models.ForeignKey(
        Proposition, on_delete=models.CASCADE, related_name="entretiens"
    )

    class Meta:
        verbose_name = "entretien de découverte"
        verbose_name_plural = "entretiens de découverte"
        ordering = ["debut"]

    def __str__(self):
        return f"Entretien de découverte avec {self.proposition.coach}"

    @property
    def coaching(self):
        return self.proposition.preselection.coaching

    participants_related = (
        "proposition__preselection__coaching__cadre__user",
        "proposition__coach__user",
    )

    def participants(self):
        users = [self.coaching.cadre.user, self.proposition.coach.user]
        return [u for u in users if u is not None]

    def titre_agenda(self):
        return f"Coaching – entretien de découverte avec {self.proposition.coach}"

    def get_absolute_url(self):
        return reverse("coaching:entretien", args=[self.pk])
