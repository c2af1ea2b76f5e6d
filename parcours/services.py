"""Adding and removing the documents of a cadre's file (décret n° 2022-1043, art. 7-8)."""

from .models import DocumentParcours


def add_document(cadre, form, by) -> DocumentParcours:
    """Save a valid ``forms.DocumentForm`` (its file already checked and read) as a
    document of ``cadre``'s file."""
    document = form.save(commit=False)
    document.cadre = cadre
    document.ajoute_par = by
    document.save()
    return document


def remove_document(document):
    document.delete()
