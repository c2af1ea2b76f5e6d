"""What a document of the file may be: a PDF, ODT or DOCX file of at most 5 Mo, checked
by its extension and by its content (a renamed file is refused), with French messages."""

import io
import os
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError

from cadres.importing import size_label

DEFAULT_MAX_SIZE = 5 * 1024 * 1024
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
TYPES = {
    ".pdf": "application/pdf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def max_size():
    return getattr(settings, "PARCOURS_MAX_UPLOAD_SIZE", DEFAULT_MAX_SIZE)


def _is_odt(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "mimetype" in archive.namelist() and archive.read("mimetype") == ODT_MIMETYPE
    except zipfile.BadZipFile:
        return False


def _is_docx(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


CONTENT_CHECKS = {
    ".pdf": lambda content: content.startswith(b"%PDF-"),
    ".odt": _is_odt,
    ".docx": _is_docx,
}


def check_extension(name):
    extension = os.path.splitext(name.lower())[1]
    if extension not in TYPES:
        raise ValidationError(
            "Format non pris en charge : déposez un document PDF (.pdf), OpenDocument "
            "(.odt) ou Word (.docx)."
        )
    return extension


def check_size(size):
    if size > max_size():
        raise ValidationError(
            f"Le fichier dépasse la taille maximale autorisée ({size_label(max_size())})."
        )


def check_file(name, content):
    """The content type to serve the file with, or a ValidationError saying why the file
    is refused."""
    extension = check_extension(name)
    if not content:
        raise ValidationError("Le fichier est vide.")
    check_size(len(content))
    if not CONTENT_CHECKS[extension](content):
        raise ValidationError(
            f"« {name} » n'est pas un document {extension[1:].upper()} valide : son "
            "contenu ne correspond pas à son extension."
        )
    return TYPES[extension]
