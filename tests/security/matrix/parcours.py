"""The cadre's file: in the portal (``/espace/mon-dossier/``) each cadre reads their own
(no object in the URL; anybody without a cadre profile gets 404) and downloads their
own documents only; in the admin, the délégués of the cadre's perimeter and the
administrators (another perimeter: 404, like the cadre's change page)."""

from . import DONE, NOT_ALLOWED, NOT_FOUND, OK, REDIRECT, Row, only
from .admin import staff

IN_A = {"other_delegue": NOT_FOUND}  # the cadre is in perimeter A


def _document(side):
    return lambda w: {"pk": getattr(w, f"{side}document").pk}


def _admin_document(w):
    return {"pk": w.cadre.pk, "document_pk": w.document.pk}


ROWS = [
    Row("parcours:mon_dossier", expect=only(cadre=OK, other_cadre=OK)),
    Row("parcours:document", _document(""), only(cadre=OK), variant="own"),
    Row("parcours:document", _document("other_"), only(other_cadre=OK), variant="other's"),
    Row("admin:cadres_cadre_dossier", {"pk": "cadre"}, staff(**IN_A), variant="in A"),
    Row(
        "admin:cadres_cadre_dossier",
        {"pk": "other_cadre"},
        staff(delegue=NOT_FOUND),
        variant="in B",
    ),
    Row("admin:cadres_cadre_dossier", {"pk": "cadre"}, staff(DONE, **IN_A), method="post"),
    Row("admin:cadres_cadre_dossier_document", _admin_document, staff(**IN_A)),
    Row(
        "admin:cadres_cadre_dossier_document",
        lambda w: {"pk": w.cadre.pk, "document_pk": w.other_document.pk},
        staff(NOT_FOUND),
        variant="another cadre's document",
    ),
    Row(
        "admin:cadres_cadre_dossier_document_supprimer",
        _admin_document,
        staff(REDIRECT, **IN_A),
        method="post",
    ),
    Row(
        "admin:cadres_cadre_dossier_document_supprimer",
        _admin_document,
        staff(NOT_ALLOWED),
    ),
]
