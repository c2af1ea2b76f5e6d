"""Mentoring in the portal (``/espace/mentorat/``): mentee and mentor of a relation."""

from . import DONE, NOT_ALLOWED, NOT_FOUND, OK, Row, everyone, only
from .admin import staff

PAIR = {"cadre": DONE, "mentor": DONE}

ROWS = [
    Row("mentorat:list", expect=everyone(OK)),
    Row("mentorat:besoins", expect=only(cadre=OK, other_cadre=OK)),
    Row("mentorat:besoins", method="post", expect=only(cadre=DONE, other_cadre=DONE)),
    Row("mentorat:detail", {"pk": "mentorat"}, only(cadre=OK, mentor=OK)),
    Row("mentorat:detail", {"pk": "other_mentorat"}, only(other_cadre=OK), variant="other's"),
    # A health check is answered by its side only: the other side gets 404 too.
    Row("mentorat:point_etape", {"pk": "point_etape"}, only(cadre=OK)),
    Row("mentorat:point_etape", {"pk": "point_etape"}, only(cadre=DONE), method="post"),
    Row("mentorat:accept", {"pk": "mentorat"}, only(**PAIR), method="post"),
    Row("mentorat:accept", {"pk": "mentorat"}, everyone(NOT_ALLOWED)),
    Row("mentorat:decline", {"pk": "mentorat"}, only(**PAIR), method="post"),
    Row("mentorat:decline", {"pk": "mentorat"}, everyone(NOT_ALLOWED)),
    Row("mentorat:meeting", {"pk": "mentorat"}, only(**PAIR), method="post"),
    Row("mentorat:meeting", {"pk": "mentorat"}, everyone(NOT_ALLOWED)),
    Row("mentorat:meeting_status", {"pk": "rencontre"}, only(**PAIR), method="post"),
    Row("mentorat:meeting_status", {"pk": "rencontre"}, everyone(NOT_ALLOWED)),
    Row("mentorat:note", {"pk": "rencontre"}, only(**PAIR), method="post"),
    Row("mentorat:note", {"pk": "rencontre"}, everyone(NOT_ALLOWED)),
    # The activity record is the mentor's own: nobody else is a mentor here.
    Row("mentorat:activite_pdf", expect=only(mentor=OK)),
    Row("mentorat:activite_csv", expect=only(mentor=OK)),
]

# --- custom admin views (POST only) ----------------------------------------------------


def _proposition(w):
    return {"pk": w.campagne.pk, "proposition_pk": w.proposition.pk}


CAMPAGNE_A = staff(DONE, other_delegue=NOT_FOUND)
ROWS += [
    Row("admin:mentorat_campagne_compute", {"pk": "campagne"}, CAMPAGNE_A, method="post"),
    Row("admin:mentorat_campagne_compute", {"pk": "campagne"}, staff(NOT_ALLOWED)),
    Row("admin:mentorat_campagne_confirm", {"pk": "campagne"}, CAMPAGNE_A, method="post"),
    Row("admin:mentorat_campagne_remove", _proposition, CAMPAGNE_A, method="post"),
    Row("admin:mentorat_campagne_swap", _proposition, CAMPAGNE_A, method="post"),
]

# The queue's offers (of a mentee of A) are decided by POST, within the perimeter.
OFFRE_A = staff(DONE, other_delegue=NOT_FOUND)
ROWS += [
    Row("admin:mentorat_offre_confirm", {"pk": "offre"}, OFFRE_A, method="post"),
    Row("admin:mentorat_offre_confirm", {"pk": "offre"}, staff(NOT_ALLOWED)),
    Row("admin:mentorat_offre_skip", {"pk": "offre"}, OFFRE_A, method="post"),
    Row("admin:mentorat_offre_skip", {"pk": "offre"}, staff(NOT_ALLOWED)),
]


def _activite(fmt, mentor):
    return lambda w: {"pk": getattr(w, mentor).pk, "fmt": fmt}


# A mentor's activity record: a mentor of A (``other_mentor``) for the délégué of A.
ROWS += [
    Row(
        "admin:mentorat_mentor_activite",
        _activite(fmt, "other_mentor"),
        staff(OK, other_delegue=NOT_FOUND),
        variant=f"{fmt} in A",
    )
    for fmt in ("pdf", "csv")
]
