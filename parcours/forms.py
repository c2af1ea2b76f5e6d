import os

from django import forms
from django.core.exceptions import ValidationError

from . import documents
from .models import DocumentParcours


class DocumentForm(forms.ModelForm):
    """A document of the file (admin): a reference, a file, or both."""

    fichier = forms.FileField(
        label="Fichier",
        required=False,
        help_text="PDF, ODT ou DOCX, 5 Mo au plus.",
    )

    class Meta:
        model = DocumentParcours
        fields = ["nature", "date", "reference"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_fichier(self):
        upload = self.cleaned_data.get("fichier")
        if not upload:
            return None
        documents.check_extension(upload.name)
        documents.check_size(upload.size)  # before reading it
        content = upload.read()
        self.instance.type_fichier = documents.check_file(upload.name, content)
        self.instance.nom_fichier = os.path.basename(upload.name)[:255]
        self.instance.contenu = content
        self.instance.taille = len(content)
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("reference") and not cleaned.get("fichier"):
            raise ValidationError("Indiquez une référence ou joignez un fichier.")
        return cleaned
