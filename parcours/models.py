"""The documents of the cadre's file: the *bilan de parcours professionnel* and the
*plan individuel de développement des compétences* (décret n° 2022-1043, art. 7 and 8).

The file itself is stored in the row (like the HR import files and the convention PDFs)
and served by views that check who asks: no upload lands in a directory a web server
would hand to anyone.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cadres.models import Cadre


class DocumentParcours(models.Model):
    class Nature(models.TextChoices):
        BILAN = "bilan", "Bilan de parcours professionnel (art. 7)"
        PLAN = "plan", "Plan individuel de développement des compétences (art. 8)"

    cadre = models.ForeignKey(
        Cadre, verbose_name="cadre", on_delete=models.CASCADE, related_name="documents_parcours"
    )
    nature = models.CharField("nature", max_length=10, choices=Nature.choices)
    date = models.DateField("date", help_text="Date de l'entretien ou du document.")
    reference = models.CharField(
        "référence",
        max_length=255,
        blank=True,
        help_text="Où le document se trouve (dossier RH, GED, référence du courrier…).",
    )
    nom_fichier = models.CharField("fichier", max_length=255, blank=True)
    type_fichier = models.CharField("type du fichier", max_length=100, blank=True)
    contenu = models.BinaryField("contenu du fichier", blank=True, default=b"")
    taille = models.PositiveIntegerField("taille (octets)", default=0)
    ajoute_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="ajouté par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ajoute_le = models.DateTimeField("ajouté le", default=timezone.now)

    class Meta:
        verbose_name = "document du parcours"
        verbose_name_plural = "documents du parcours"
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reference="") | ~Q(nom_fichier=""),
                name="document_parcours_reference_ou_fichier",
                violation_error_message="Indiquez une référence ou joignez un fichier.",
            )
        ]

    def __str__(self):
        return f"{self.get_nature_display()} du {self.date:%d/%m/%Y} – {self.cadre}"

    @property
    def has_file(self):
        return bool(self.nom_fichier)
