"""Période d'immersion professionnelle (décret n° 2022-1043): the request, its days, the
three-party convention in versions, the signatures by link, the end feedback."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from cadres.models import Cadre


class ImmersionQuerySet(models.QuerySet):
    def visible_to(self, user):
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "cadre__structure")

    def counting(self):
        """Immersions whose days count in the 20-days-over-3-years ceiling."""
        return self.exclude(statut__in=Immersion.NOT_COUNTING)


class Immersion(models.Model):
    class Statut(models.TextChoices):
        DEMANDEE = "demandee", "Demandée"
        ACCEPTEE = "acceptee", "Accord de la hiérarchie"
        REFUSEE = "refusee", "Refusée"
        REPORTEE = "reportee", "Reportée"
        EN_SIGNATURE = "en_signature", "Convention en signature"
        SIGNEE = "signee", "Convention signée"
        TERMINEE = "terminee", "Terminée"
        ANNULEE = "annulee", "Annulée"

    class Realisation(models.TextChoices):
        EFFECTUEE = "effectuee", "Effectuée en totalité"
        PARTIELLE = "partielle", "Effectuée en partie (des jours manqués)"
        NON_EFFECTUEE = "non_effectuee", "Non effectuée"

    NOT_COUNTING = (Statut.REFUSEE, Statut.ANNULEE)
    DECISIONS = (Statut.ACCEPTEE, Statut.REFUSEE, Statut.REPORTEE)

    cadre = models.ForeignKey(
        Cadre, verbose_name="agent", on_delete=models.PROTECT, related_name="immersions"
    )
    statut = models.CharField(
        "statut", max_length=20, choices=Statut.choices, default=Statut.DEMANDEE, db_index=True
    )
    motivation = models.TextField("motivation")
    projet_professionnel = models.TextField("projet professionnel")
    # The host may be any public employer, known here or not: free entry.
    structure_accueil = models.CharField("structure d'accueil", max_length=255)
    lieu = models.CharField("lieu de l'immersion", max_length=255)
    fonctions_observees = models.TextField("fonctions observées")
    tuteur_nom = models.CharField("tuteur ou tutrice", max_length=150)
    tuteur_fonction = models.CharField("fonction du tuteur", max_length=150, blank=True)
    tuteur_email = models.EmailField("courriel du tuteur")
    tuteur_telephone = models.CharField("téléphone du tuteur", max_length=30, blank=True)
    accueil_representant_nom = models.CharField(
        "représentant de la structure d'accueil", max_length=150
    )
    accueil_representant_email = models.EmailField("courriel du représentant de l'accueil")
    employeur_representant_nom = models.CharField(
        "représentant de l'administration d'emploi", max_length=150
    )
    employeur_representant_email = models.EmailField("courriel du représentant de l'employeur")
    # Stated in the convention: the agent is "en mission"; with travel, its costs are
    # paid as for a mission and an ordre de mission must exist before the first day.
    deplacement = models.BooleanField(
        "l'immersion implique un déplacement (frais de mission)", default=False
    )
    # The order itself is issued later, outside the convention: recording it voids nothing.
    ordre_mission_numero = models.CharField(
        "numéro de l'ordre de mission", max_length=50, blank=True
    )
    ordre_mission_date = models.DateField("ordre de mission établi le", null=True, blank=True)
    # The délégués' working note: not stated by the convention, so changing it voids no
    # signature; it is in the agent's personal-data export, like the rest of the file.
    commentaire_interne = models.TextField(
        "commentaire interne",
        blank=True,
        help_text="Note de suivi du service RH : elle ne figure pas dans la convention, "
        "la modifier n'annule aucune signature.",
    )
    recue_le = models.DateField("demande reçue le")
    # Made less than 3 months ahead: only with the hierarchy's agreement.
    accord_delai_court = models.BooleanField(
        "accord de la hiérarchie pour un délai de prévenance inférieur à 3 mois", default=False
    )
    motif_decision = models.TextField("motif de la décision", blank=True)
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidée par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decidee_le = models.DateTimeField("décidée le", null=True, blank=True)
    commencee_le = models.DateTimeField("commencée le", null=True, blank=True)
    # Recorded with the first end-of-immersion feedback (the missed days on the days).
    realisation = models.CharField(
        "réalisation", max_length=15, choices=Realisation.choices, blank=True
    )
    cree_le = models.DateTimeField("créée le", auto_now_add=True)

    objects = ImmersionQuerySet.as_manager()

    class Meta:
        verbose_name = "période d'immersion"
        verbose_name_plural = "périodes d'immersion"
        ordering = ["-recue_le", "-pk"]
        indexes = [models.Index(fields=["-recue_le", "-id"], name="immersion_recue_le")]

    def __str__(self):
        return f"Immersion de {self.cadre} – {self.structure_accueil}"

    def get_absolute_url(self):
        return reverse("immersion:detail", args=[self.pk])

    def clean(self):
        super().clean()
        if bool(self.ordre_mission_numero.strip()) != bool(self.ordre_mission_date):
            raise ValidationError(
                "Un ordre de mission s'enregistre avec son numéro et sa date, ou pas du tout."
            )

    @property
    def ordre_mission_emis(self):
        return bool(self.ordre_mission_numero and self.ordre_mission_date)

    @property
    def dates(self):
        return [jour.date for jour in self.jours.all()]

    def current_convention(self):
        return self.conventions.filter(annulee_le__isnull=True).order_by("-version").first()


class JourImmersionQuerySet(models.QuerySet):
    def counting(self):
        """Days in the 20-days-over-3-years ceiling: those of immersions that count,
        planned until the feedback is in, then only those actually done."""
        return self.exclude(immersion__statut__in=Immersion.NOT_COUNTING).exclude(effectue=False)


class JourImmersion(models.Model):
    immersion = models.ForeignKey(Immersion, on_delete=models.CASCADE, related_name="jours")
    date = models.DateField("jour")
    # None: planned, not yet known; set by the end-of-immersion feedback.
    effectue = models.BooleanField("effectué", null=True, blank=True)

    objects = JourImmersionQuerySet.as_manager()

    class Meta:
        verbose_name = "jour d'immersion"
        verbose_name_plural = "jours d'immersion"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["immersion", "date"], name="jour_immersion_unique")
        ]

    def __str__(self):
        return f"{self.date:%d/%m/%Y}"


class Convention(models.Model):
    """One version of the three-party convention. A change to what it states voids it
    (``annulee_le``) and a new version is generated, to be signed again."""

    immersion = models.ForeignKey(Immersion, on_delete=models.CASCADE, related_name="conventions")
    version = models.PositiveSmallIntegerField("version")
    pdf = models.BinaryField("document PDF")
    sha256 = models.CharField("empreinte SHA-256 du PDF", max_length=64)
    # Fingerprint of what the convention states: a new one means a new version.
    contenu = models.CharField("empreinte des données de la convention", max_length=64)
    cree_le = models.DateTimeField("générée le", auto_now_add=True)
    annulee_le = models.DateTimeField("annulée le", null=True, blank=True)

    class Meta:
        verbose_name = "convention"
        verbose_name_plural = "conventions"
        ordering = ["immersion", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["immersion", "version"], name="convention_version")
        ]

    def __str__(self):
        return f"Convention v{self.version} – {self.immersion}"

    @property
    def fully_signed(self):
        signatures = list(self.signatures.all())
        return bool(signatures) and all(s.signe_le for s in signatures)

    def parties(self):
        """Each party with its signatories, in the convention's order; a party has
        signed when every one of its signatories has."""
        signatures = sorted(self.signatures.all(), key=lambda s: s.pk)
        out = []
        for partie in Signature.Partie:
            mine = [s for s in signatures if s.partie == partie]
            if mine:
                out.append(
                    {
                        "partie": partie,
                        "label": partie.label,
                        "signatures": mine,
                        "signee": all(s.signe_le for s in mine),
                        "en_attente": [s for s in mine if not s.signe_le],
                    }
                )
        return out


class Signature(models.Model):
    """A signatory of one version, reached by a personal, expiring, single-use link."""

    class Partie(models.TextChoices):
        AGENT = "agent", "L'agent"
        EMPLOYEUR = "employeur", "L'administration d'emploi"
        ACCUEIL = "accueil", "La structure d'accueil"

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="signatures")
    partie = models.CharField("partie", max_length=12, choices=Partie.choices)
    nom = models.CharField("signataire", max_length=150)
    fonction = models.CharField("qualité", max_length=150, blank=True)
    email = models.EmailField("courriel")
    # Random part of the link; the link itself is signed with SECRET_KEY (services).
    nonce = models.CharField(max_length=32, unique=True)
    expire_le = models.DateTimeField("lien valable jusqu'au")
    signe_le = models.DateTimeField("signée le", null=True, blank=True)
    nom_signe = models.CharField("nom saisi à la signature", max_length=150, blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    document_sha256 = models.CharField("empreinte du document signé", max_length=64, blank=True)

    class Meta:
        verbose_name = "signature"
        verbose_name_plural = "signatures"
        ordering = ["convention", "partie"]

    def __str__(self):
        qualite = f" ({self.fonction})" if self.fonction else ""
        return f"{self.get_partie_display()} – {self.nom}{qualite}"


class Signataire(models.Model):
    """A further signatory of a party, beside its representative (for example the
    employer's HR and the line manager): the party has signed when all have."""

    immersion = models.ForeignKey(
        Immersion, on_delete=models.CASCADE, related_name="autres_signataires"
    )
    # The agent signs alone, as the agent: only the two other parties take more.
    partie = models.CharField(
        "partie",
        max_length=12,
        choices=[(p.value, p.label) for p in Signature.Partie if p != Signature.Partie.AGENT],
    )
    nom = models.CharField("signataire", max_length=150)
    fonction = models.CharField("qualité", max_length=150, blank=True)
    email = models.EmailField("courriel")

    class Meta:
        verbose_name = "signataire supplémentaire"
        verbose_name_plural = "signataires supplémentaires"
        ordering = ["immersion", "partie", "pk"]

    def __str__(self):
        return f"{self.get_partie_display()} – {self.nom}"


class Retour(models.Model):
    """End-of-immersion feedback, from the agent or the tutor."""

    class Auteur(models.TextChoices):
        AGENT = "agent", "L'agent"
        TUTEUR = "tuteur", "Le tuteur"

    class Confirmation(models.TextChoices):
        OUI = "oui", "Oui"
        EN_PARTIE = "en_partie", "En partie"
        NON = "non", "Non"

    immersion = models.ForeignKey(Immersion, on_delete=models.CASCADE, related_name="retours")
    auteur = models.CharField("auteur", max_length=10, choices=Auteur.choices)
    confirme_projet = models.CharField(
        "l'immersion a-t-elle confirmé le projet professionnel ?",
        max_length=10,
        choices=Confirmation.choices,
    )
    suite = models.TextField("et maintenant ? (suite envisagée)", blank=True)
    rempli_le = models.DateTimeField("rempli le", auto_now_add=True)

    class Meta:
        verbose_name = "retour d'immersion"
        verbose_name_plural = "retours d'immersion"
        constraints = [
            models.UniqueConstraint(fields=["immersion", "auteur"], name="retour_unique")
        ]

    def __str__(self):
        return f"Retour de {self.get_auteur_display().lower()} – {self.immersion}"
