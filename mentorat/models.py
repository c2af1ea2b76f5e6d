"""Mentoring: the mentor pool, mentees waiting for a mentor, matching campaigns,
relations and their meetings."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande, Dispositif, Mode, Session
from cadres.models import Cadre, Structure


class Domaine(models.Model):
    """A domain of expertise a mentor offers and a mentee needs (referential)."""

    code = models.SlugField("code", max_length=40, unique=True)
    libelle = models.CharField("libellé", max_length=120)

    class Meta:
        verbose_name = "domaine d'expertise"
        verbose_name_plural = "domaines d'expertise"
        ordering = ["libelle"]

    def __str__(self):
        return self.libelle


class MentorQuerySet(models.QuerySet):
    def with_load(self):
        """Annotate ``charge``: relations that hold a place (proposed to running)."""
        return self.annotate(
            charge=Count("mentorats", filter=Q(mentorats__statut__in=Mentorat.HOLDING_STATUSES))
        )

    def available(self, day=None):
        """Active and within their availability window on ``day``."""
        day = day or timezone.localdate()
        return self.filter(actif=True).filter(
            Q(disponible_du__isnull=True) | Q(disponible_du__lte=day),
            Q(disponible_au__isnull=True) | Q(disponible_au__gte=day),
        )

    def visible_to(self, user):
        """Mentors of the user's perimeter, and those attached to no structure
        (retired or outside the State), who form a shared pool."""
        from cadres.perimeter import filter_for_user, perimeter_paths

        if perimeter_paths(user) is None:
            return self
        return (
            filter_for_user(self, user, "structure") | self.filter(structure__isnull=True)
        ).distinct()


class Mentor(models.Model):
    """An experienced person who mentors, usually a senior cadre."""

    cadre = models.OneToOneField(
        Cadre,
        verbose_name="fiche cadre",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentor",
        help_text="Quand le mentor est lui-même un cadre suivi ici.",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentor",
    )
    civilite = models.CharField("civilité", max_length=3, choices=Cadre.Civilite.choices)
    nom = models.CharField("nom", max_length=150)
    prenom = models.CharField("prénom", max_length=150)
    email = models.EmailField("adresse électronique", unique=True)
    fonction = models.CharField("fonction actuelle ou passée", max_length=255, blank=True)
    structure = models.ForeignKey(
        Structure,
        verbose_name="structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mentors",
        help_text="Jamais de mentorat dans la même structure ou la même branche.",
    )
    ville = models.CharField("ville", max_length=120, blank=True)
    annees_experience = models.PositiveSmallIntegerField(
        "années d'expérience de l'encadrement supérieur",
        default=10,
        validators=[MaxValueValidator(50)],
    )
    domaines = models.ManyToManyField(
        Domaine, verbose_name="domaines d'expertise", blank=True, related_name="mentors"
    )
    langues = models.CharField("langues", max_length=255, default="français")
    capacite = models.PositiveSmallIntegerField(
        "capacité (mentorés en même temps)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    disponible_du = models.DateField("disponible à partir du", null=True, blank=True)
    disponible_au = models.DateField("disponible jusqu'au", null=True, blank=True)
    presentation = models.TextField("présentation", blank=True)
    actif = models.BooleanField("actif", default=True)
    cree_le = models.DateTimeField("créé le", auto_now_add=True)

    objects = MentorQuerySet.as_manager()

    class Meta:
        verbose_name = "mentor"
        verbose_name_plural = "mentors"
        ordering = ["nom", "prenom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(disponible_au__isnull=True)
                | Q(disponible_du__isnull=True)
                | Q(disponible_au__gte=models.F("disponible_du")),
                name="mentor_disponibilite_ordonnee",
                violation_error_message="La fin de disponibilité précède son début.",
            )
        ]

    def __str__(self):
        return f"{self.prenom} {self.nom.upper()}"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.disponible_du and self.disponible_au and self.disponible_au < self.disponible_du:
            raise ValidationError(
                {"disponible_au": "La fin de disponibilité doit suivre son début."}
            )


class MentoreQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "cadre__structure")

    def waiting(self):
        return self.filter(statut=Mentore.Statut.EN_ATTENTE)


class Mentore(models.Model):
    """A cadre asking for a mentor: needs, context, wishes, and their place in the
    waiting list. One per cadre; a new request updates it."""

    class Contexte(models.TextChoices):
        PRISE_DE_POSTE = "prise_de_poste", "Prise de poste"
        CYCLE = "cycle_developpement", "Cycle de développement"
        VIVIER = "vivier", "Vivier"

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente d'un mentor"
        PROPOSE = "propose", "Mentor proposé"
        ACCOMPAGNE = "accompagne", "Accompagné"
        RETIRE = "retire", "Retiré de la liste"

    class ModeSouhaite(models.TextChoices):
        PRESENTIEL = Mode.PRESENTIEL, "Présentiel de préférence"
        DISTANCIEL = Mode.DISTANCIEL, "Distanciel de préférence"
        INDIFFERENT = "indifferent", "Indifférent"

    cadre = models.OneToOneField(
        Cadre, verbose_name="cadre", on_delete=models.CASCADE, related_name="mentore"
    )
    demande = models.ForeignKey(
        Demande,
        verbose_name="demande d'origine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contexte = models.CharField("contexte", max_length=30, choices=Contexte.choices)
    besoins = models.ManyToManyField(
        Domaine, verbose_name="besoins (domaines)", blank=True, related_name="mentores"
    )
    objectifs = models.TextField("objectifs", blank=True)
    annees_experience = models.PositiveSmallIntegerField(
        "années d'expérience de l'encadrement supérieur",
        default=0,
        validators=[MaxValueValidator(50)],
    )
    ville = models.CharField("ville", max_length=120, blank=True)
    mode_souhaite = models.CharField(
        "modalité souhaitée",
        max_length=12,
        choices=ModeSouhaite.choices,
        default=ModeSouhaite.INDIFFERENT,
    )
    mentors_souhaites = models.ManyToManyField(
        Mentor, verbose_name="mentors souhaités", blank=True, related_name="souhaite_par"
    )
    mentors_exclus = models.ManyToManyField(
        Mentor, verbose_name="mentors écartés", blank=True, related_name="exclu_par"
    )
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE, db_index=True
    )
    en_attente_depuis = models.DateTimeField("en attente depuis", default=timezone.now)
    # Why the mentee is (back) on the list: a campaign found no mentor, a proposal
    # was declined...
    motif_attente = models.TextField("motif de l'attente", blank=True)
    cree_le = models.DateTimeField("inscrit le", auto_now_add=True)

    objects = MentoreQuerySet.as_manager()

    class Meta:
        verbose_name = "mentoré"
        verbose_name_plural = "mentorés (liste d'attente)"
        ordering = ["en_attente_depuis"]
        indexes = [
            models.Index(fields=["en_attente_depuis", "id"], name="mentore_en_attente_depuis")
        ]

    def __str__(self):
        return str(self.cadre)


class CampagneQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Campaigns all of whose structures lie inside the user's perimeter: one that
        also covers another ministry would show that ministry's mentees."""
        from cadres.perimeter import filter_for_user, perimeter_paths

        if perimeter_paths(user) is None:
            return self
        links = Campagne.structures.through.objects.filter(campagne=models.OuterRef("pk"))
        inside = filter_for_user(Structure.objects.all(), user, "")
        return self.filter(models.Exists(links)).exclude(
            models.Exists(links.exclude(structure__in=inside))
        )


class Campagne(models.Model):
    """A matching campaign: the engine proposes, a délégué reviews, then confirms;
    nothing is sent before the confirmation."""

    class Statut(models.TextChoices):
        BROUILLON = "brouillon", "Brouillon"
        CALCULEE = "calculee", "Propositions calculées, à relire"
        CONFIRMEE = "confirmee", "Confirmée, propositions envoyées"

    nom = models.CharField("nom", max_length=200)
    structures = models.ManyToManyField(
        Structure,
        verbose_name="périmètre",
        related_name="+",
        help_text="Structures (sous-arbres compris) dont les mentorés et mentors participent.",
    )
    # A cohort programme's campaign proposes mentors to the cohort's members only.
    reservee_a = models.ManyToManyField(
        "cadres.Cadre",
        verbose_name="réservée aux cadres",
        blank=True,
        related_name="+",
        help_text="Si renseigné, seuls ces cadres reçoivent une proposition de mentor.",
    )
    date_debut = models.DateField("début des mentorats", default=timezone.localdate)
    duree_mois = models.PositiveSmallIntegerField(
        "durée des mentorats (mois)",
        default=9,
        validators=[MinValueValidator(6), MaxValueValidator(12)],
    )
    statut = models.CharField(
        "statut", max_length=10, choices=Statut.choices, default=Statut.BROUILLON
    )
    creee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="créée par",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    creee_le = models.DateTimeField("créée le", auto_now_add=True)
    calculee_le = models.DateTimeField("calculée le", null=True, blank=True)
    confirmee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="confirmée par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmee_le = models.DateTimeField("confirmée le", null=True, blank=True)
    # Figures of the last computation, shown to the reviewer.
    nb_mentores = models.PositiveIntegerField("mentorés en attente", default=0)
    nb_mentors = models.PositiveIntegerField("mentors disponibles", default=0)
    score_optimal = models.PositiveIntegerField("score total optimal", default=0)
    duree_calcul = models.FloatField("durée du calcul (s)", default=0)

    objects = CampagneQuerySet.as_manager()

    class Meta:
        verbose_name = "campagne d'appariement"
        verbose_name_plural = "campagnes d'appariement"
        ordering = ["-creee_le"]

    def __str__(self):
        return self.nom


class Proposition(models.Model):
    """A pair the engine proposes, with the named criteria of its score."""

    campagne = models.ForeignKey(Campagne, on_delete=models.CASCADE, related_name="propositions")
    mentore = models.ForeignKey(Mentore, on_delete=models.CASCADE, related_name="propositions")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="propositions")
    score = models.IntegerField("score")
    criteres = models.JSONField("critères", default=list)
    # Set when a délégué swapped the engine's mentor for another.
    modifiee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modifiée par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "proposition"
        verbose_name_plural = "propositions"
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campagne", "mentore"], name="proposition_un_mentore")
        ]

    def __str__(self):
        return f"{self.mentor} → {self.mentore} ({self.score} pts)"


class NonApparie(models.Model):
    """A waiting mentee the campaign could not match, and why."""

    campagne = models.ForeignKey(Campagne, on_delete=models.CASCADE, related_name="non_apparies")
    mentore = models.ForeignKey(Mentore, on_delete=models.CASCADE, related_name="+")
    motif = models.TextField("motif")

    class Meta:
        verbose_name = "mentoré non apparié"
        verbose_name_plural = "mentorés non appariés"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.mentore} : {self.motif}"


class MentoratQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "mentore__structure")

    def of_user(self, user):
        """Relations where the user is the mentee or the mentor: ``key = (scalar
        subquery)`` on each side, looked up in the key's index (an OR across two joins
        reads every relation)."""
        return self.filter(
            Q(mentore=models.Subquery(Cadre.objects.filter(user=user).values("pk")[:1]))
            | Q(mentor=models.Subquery(Mentor.objects.filter(user=user).values("pk")[:1]))
        )

    def with_health_alert(self, now=None):
        """Annotate ``alerte_point_etape``: a relation under way flagged by a health check
        (see ``PointEtapeQuerySet.alerting``)."""
        alerting = PointEtape.objects.alerting(now).filter(mentorat=models.OuterRef("pk"))
        return self.annotate(
            alerte_point_etape=models.ExpressionWrapper(
                Q(statut__in=Mentorat.LIVE_STATUSES) & Q(models.Exists(alerting)),
                output_field=models.BooleanField(),
            )
        )

    def silent_since(self, since):
        """Relations under way whose last held meeting (or start) is before ``since``."""
        from django.db.models import Max
        from django.db.models.functions import Coalesce, TruncDate

        return (
            self.filter(statut__in=Mentorat.LIVE_STATUSES)
            .annotate(
                derniere=Coalesce(
                    TruncDate(
                        Max(
                            "rencontres__debut",
                            filter=Q(rencontres__statut=Session.Statut.REALISEE),
                        )
                    ),
                    "date_debut",
                )
            )
            .filter(derniere__lt=since)
        )


class Mentorat(models.Model):
    """A mentoring relation: one mentor, one mentee (a cadre)."""

    class Statut(models.TextChoices):
        PROPOSE = "propose", "Proposé"
        ACCEPTE = "accepte", "Accepté"
        EN_COURS = "en_cours", "En cours"
        TERMINE = "termine", "Terminé"
        INTERROMPU = "interrompu", "Interrompu"
        DECLINE = "decline", "Décliné"

    # Statuses that take one of the mentor's places.
    HOLDING_STATUSES = (Statut.PROPOSE, Statut.ACCEPTE, Statut.EN_COURS)
    LIVE_STATUSES = (Statut.ACCEPTE, Statut.EN_COURS)
    TRANSITIONS = {
        Statut.PROPOSE: {Statut.ACCEPTE, Statut.DECLINE},
        Statut.ACCEPTE: {Statut.EN_COURS, Statut.INTERROMPU},
        Statut.EN_COURS: {Statut.TERMINE, Statut.INTERROMPU},
        Statut.TERMINE: set(),
        Statut.INTERROMPU: set(),
        Statut.DECLINE: set(),
    }

    mentor = models.ForeignKey(
        Mentor, verbose_name="mentor", on_delete=models.PROTECT, related_name="mentorats"
    )
    mentore = models.ForeignKey(
        Cadre, verbose_name="mentoré", on_delete=models.PROTECT, related_name="mentorats"
    )
    campagne = models.ForeignKey(
        Campagne,
        verbose_name="campagne",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentorats",
    )
    contexte = models.CharField("contexte", max_length=30, choices=Mentore.Contexte.choices)
    objectifs = models.TextField("objectifs", blank=True)
    score = models.IntegerField("score d'appariement", null=True, blank=True)
    criteres = models.JSONField("critères d'appariement", default=list, blank=True)
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.PROPOSE, db_index=True
    )
    # Each side accepts the proposal and the mentoring charter in one step.
    charte_mentor_le = models.DateTimeField(
        "charte acceptée par le mentor le", null=True, blank=True
    )
    charte_mentore_le = models.DateTimeField(
        "charte acceptée par le mentoré le", null=True, blank=True
    )
    date_debut = models.DateField("début")
    date_fin_prevue = models.DateField("fin prévue")
    date_fin = models.DateField("fin effective", null=True, blank=True)
    decline_par = models.CharField("déclinée par", max_length=10, blank=True)
    motif_fin = models.TextField("motif (déclin ou interruption)", blank=True)
    cree_le = models.DateTimeField("créé le", auto_now_add=True)

    objects = MentoratQuerySet.as_manager()

    class Meta:
        verbose_name = "mentorat"
        verbose_name_plural = "mentorats"
        ordering = ["-cree_le"]
        indexes = [models.Index(fields=["-cree_le", "-id"], name="mentorat_cree_le")]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin_prevue__gt=models.F("date_debut")),
                name="mentorat_fin_apres_debut",
                violation_error_message="La fin prévue doit suivre le début.",
            )
        ]

    def __str__(self):
        return f"Mentorat de {self.mentore} par {self.mentor}"

    def get_absolute_url(self):
        return reverse("mentorat:detail", args=[self.pk])


class Rencontre(Session):
    """A mentoring meeting, planned or logged afterwards by either side."""

    dispositif = Dispositif.MENTORAT

    mentorat = models.ForeignKey(Mentorat, on_delete=models.CASCADE, related_name="rencontres")
    saisie_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisie par",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "rencontre"
        verbose_name_plural = "rencontres"
        ordering = ["-debut"]
        indexes = [models.Index(fields=["mentorat", "statut", "debut"])]

    def __str__(self):
        return f"Rencontre du {timezone.localtime(self.debut):%d/%m/%Y}"

    participants_related = ("mentorat__mentore__user", "mentorat__mentor__user")

    def participants(self):
        mentorat = self.mentorat
        users = [mentorat.mentore.user, mentorat.mentor.user]
        return [u for u in users if u is not None]

    def titre_agenda(self):
        return "Mentorat – rencontre"


class NotePrivee(models.Model):
    """A private note on a meeting: only its author ever reads it (no admin page,
    no export)."""

    rencontre = models.ForeignKey(Rencontre, on_delete=models.CASCADE, related_name="notes")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    texte = models.TextField("note privée")
    modifiee_le = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "note privée"
        verbose_name_plural = "notes privées"
        constraints = [
            models.UniqueConstraint(
                fields=["rencontre", "auteur"], name="note_privee_une_par_auteur"
            )
        ]

    def __str__(self):
        return "Note privée"


# --- Health checks ---------------------------------------------------------------------


class PointEtapeQuerySet(models.QuerySet):
    def alerting(self, now=None):
        """Checks that flag their relation for the délégué: a side answered 2 or less to
        a question, or has not answered ``ANSWER_DELAY`` after the mail. A side's later
        answer supersedes its earlier checks: the flag follows each side's last signal."""
        now = now or timezone.now()
        low = Q(repondu_le__isnull=False) & (
            Q(utilite__lte=PointEtape.LOW) | Q(rythme__lte=PointEtape.LOW)
        )
        silent = Q(repondu_le__isnull=True, envoye_le__lte=now - PointEtape.ANSWER_DELAY)
        later_answer = PointEtape.objects.filter(
            mentorat=models.OuterRef("mentorat"),
            cote=models.OuterRef("cote"),
            numero__gt=models.OuterRef("numero"),
            repondu_le__isnull=False,
        )
        return self.filter(low | silent).exclude(models.Exists(later_answer))


class PointEtape(models.Model):
    """A health check of a relation, for one side: 30 days after the start, then every
    60 days, two questions by mail. The answers are signals for the délégués of the
    perimeter; the other side of the relation never sees them."""

    class Cote(models.TextChoices):
        MENTOR = "mentor", "Mentor"
        MENTORE = "mentore", "Mentoré"

    # Days after the start of the first check, then between two checks.
    FIRST = 30
    EVERY = 60
    ANSWER_DELAY = timedelta(days=14)
    LOW = 2  # an answer at or below this flags the relation
    NOTES = [(1, "1 – pas du tout"), (2, "2"), (3, "3"), (4, "4"), (5, "5 – tout à fait")]

    mentorat = models.ForeignKey(Mentorat, on_delete=models.CASCADE, related_name="points_etape")
    numero = models.PositiveSmallIntegerField("n°")
    cote = models.CharField("côté", max_length=8, choices=Cote.choices)
    echeance = models.DateField("échéance")
    envoye_le = models.DateTimeField("envoyé le", default=timezone.now)
    utilite = models.PositiveSmallIntegerField(
        "le mentorat est-il utile ?", null=True, blank=True, choices=NOTES
    )
    rythme = models.PositiveSmallIntegerField(
        "les rencontres ont-elles lieu comme prévu ?", null=True, blank=True, choices=NOTES
    )
    commentaire = models.TextField("commentaire", blank=True)
    repondu_le = models.DateTimeField("répondu le", null=True, blank=True)

    objects = PointEtapeQuerySet.as_manager()

    class Meta:
        verbose_name = "point d'étape"
        verbose_name_plural = "points d'étape"
        ordering = ["mentorat", "numero", "cote"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentorat", "numero", "cote"], name="point_etape_un_par_cote"
            ),
            models.CheckConstraint(
                condition=Q(repondu_le__isnull=True)
                | Q(utilite__range=(1, 5), rythme__range=(1, 5)),
                name="point_etape_reponse_complete",
                violation_error_message="Répondez aux deux questions, de 1 à 5.",
            ),
        ]

    def __str__(self):
        return f"Point d'étape n° {self.numero} ({self.get_cote_display().lower()})"

    def get_absolute_url(self):
        return reverse("mentorat:point_etape", args=[self.pk])


# --- Waiting queue ---------------------------------------------------------------------


class MentoreEnAttente(Mentore):
    """The waiting queue: the mentees no campaign or offer has matched yet, longest
    waiting first (an admin page of its own)."""

    class Meta:
        proxy = True
        verbose_name = "mentoré en file d'attente"
        verbose_name_plural = "file d'attente"


class OffreQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Offers of mentees of the user's perimeter, as for relations."""
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "mentore__cadre__structure")

    def open(self):
        return self.filter(statut=Offre.Statut.OUVERTE)


class Offre(models.Model):
    """A mentor freed a place: the best waiting mentee for it, with the engine's score
    and criteria, offered to the délégué, who confirms (a proposed relation, as from a
    campaign) or skips (the next mentee is offered)."""

    class Statut(models.TextChoices):
        OUVERTE = "ouverte", "À décider"
        CONFIRMEE = "confirmee", "Confirmée, proposition envoyée"
        PASSEE = "passee", "Passée"
        CADUQUE = "caduque", "Caduque"

    class Evenement(models.TextChoices):
        FIN = "fin", "Fin d'un mentorat"
        DECLIN = "declin", "Proposition déclinée"
        CAPACITE = "capacite", "Capacité augmentée ou mentor réactivé"
        NOUVEAU = "nouveau", "Nouveau mentor"
        SUITE = "suite", "Offre précédente traitée"

    mentor = models.ForeignKey(
        Mentor, verbose_name="mentor", on_delete=models.CASCADE, related_name="offres"
    )
    mentore = models.ForeignKey(
        Mentore, verbose_name="mentoré", on_delete=models.CASCADE, related_name="offres"
    )
    evenement = models.CharField("place libérée par", max_length=10, choices=Evenement.choices)
    score = models.IntegerField("score")
    criteres = models.JSONField("critères", default=list)
    statut = models.CharField(
        "statut", max_length=10, choices=Statut.choices, default=Statut.OUVERTE, db_index=True
    )
    cree_le = models.DateTimeField("offerte le", auto_now_add=True)
    traitee_le = models.DateTimeField("traitée le", null=True, blank=True)
    traitee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="traitée par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    motif = models.TextField("motif (offre passée ou caduque)", blank=True)
    mentorat = models.ForeignKey(
        Mentorat,
        verbose_name="mentorat proposé",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = OffreQuerySet.as_manager()

    class Meta:
        verbose_name = "offre de la file d'attente"
        verbose_name_plural = "offres de la file d'attente"
        ordering = ["-cree_le", "-pk"]
        constraints = [
            # One place offered at a time per mentor, one offer at a time per mentee.
            models.UniqueConstraint(
                fields=["mentor"], condition=Q(statut="ouverte"), name="offre_ouverte_par_mentor"
            ),
            models.UniqueConstraint(
                fields=["mentore"],
                condition=Q(statut="ouverte"),
                name="offre_ouverte_par_mentore",
            ),
        ]

    def __str__(self):
        return f"{self.mentor} → {self.mentore} ({self.score} pts)"
