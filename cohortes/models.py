"""Cohort programmes ("cycle de développement", a vivier's programme): a délégué gathers
a cohort of cadres for a few months and combines the schemes for it, a mentoring
campaign run on the cohort, co-development groups composed from it, and optional
coaching or immersion entitlements. The rules live in ``cohortes.services``."""

from django.conf import settings
from django.db import models

from cadres.models import Cadre, Structure, Vivier


class CohorteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Cohorts organised by a structure of the user's perimeter (its members are all
        inside that structure's subtree)."""
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "structure")


class Cohorte(models.Model):
    class Origine(models.TextChoices):
        VIVIER = "vivier", "Un vivier"
        FILTRE = "filtre", "Une sélection (structure, catégorie)"
        LISTE = "liste", "Une liste de cadres"

    class Statut(models.TextChoices):
        EN_PREPARATION = "en_preparation", "En préparation"
        EN_COURS = "en_cours", "En cours"
        TERMINEE = "terminee", "Terminée"

    nom = models.CharField("nom", max_length=200)
    structure = models.ForeignKey(
        Structure,
        verbose_name="structure organisatrice",
        on_delete=models.PROTECT,
        related_name="cohortes",
        help_text="Les membres appartiennent à cette structure ou à ses sous-structures ; "
        "la cohorte relève du périmètre de ses délégués.",
    )
    origine = models.CharField("constituée à partir de", max_length=10, choices=Origine.choices)
    vivier = models.ForeignKey(
        Vivier,
        verbose_name="vivier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cohortes",
    )
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin")
    droit_coaching = models.BooleanField("droit à un coaching", default=False)
    droit_immersion = models.BooleanField("droit à une période d'immersion", default=False)
    campagne = models.OneToOneField(
        "mentorat.Campagne",
        verbose_name="campagne de mentorat",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cohorte",
    )
    groupes = models.ManyToManyField(
        "codev.Groupe",
        verbose_name="groupes de codéveloppement",
        blank=True,
        related_name="cohortes",
    )
    # The composition proposed by the engine, kept between the steps of the page
    # (moves included) until it is confirmed: {"groups": [[cadre id, ...], ...],
    # "explanations": [...], "cost": int, "breakdown": {...}}.
    composition = models.JSONField("composition proposée", default=dict, blank=True)
    statut = models.CharField(
        "statut", max_length=15, choices=Statut.choices, default=Statut.EN_PREPARATION
    )
    creee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="créée par",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    creee_le = models.DateTimeField("créée le", auto_now_add=True)

    objects = CohorteQuerySet.as_manager()

    class Meta:
        verbose_name = "programme de cohorte"
        verbose_name_plural = "programmes de cohorte"
        ordering = ["-date_debut", "nom"]
        indexes = [models.Index(fields=["-date_debut", "nom"], name="cohorte_date_debut")]

    def __str__(self):
        return self.nom


class MembreCohorte(models.Model):
    cohorte = models.ForeignKey(Cohorte, on_delete=models.CASCADE, related_name="membres")
    cadre = models.ForeignKey(
        Cadre, verbose_name="cadre", on_delete=models.CASCADE, related_name="cohortes"
    )
    ajoute_le = models.DateField("membre depuis", auto_now_add=True)

    class Meta:
        verbose_name = "membre de cohorte"
        verbose_name_plural = "membres de cohorte"
        ordering = ["cadre__nom", "cadre__prenom"]
        constraints = [
            models.UniqueConstraint(fields=["cohorte", "cadre"], name="membre_cohorte_unique")
        ]

    def __str__(self):
        return str(self.cadre)
