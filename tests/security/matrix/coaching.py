"""Coaching in the portal (``/espace/coaching/``): the coached cadre and the coach see
the engagement; only the coach schedules, records and writes notes."""

from . import DONE, NOT_ALLOWED, NOT_FOUND, OK, Row, everyone, only
from .admin import staff

ROWS = [
    Row("coaching:list", expect=everyone(OK)),
    Row("coaching:detail", {"pk": "coaching"}, only(cadre=OK, coach=OK)),
    Row(
        "coaching:detail",
        {"pk": "other_coaching"},
        only(other_cadre=OK, other_coach=OK),
        variant="other's",
    ),
    Row("coaching:schedule", {"pk": "coaching"}, only(coach=OK)),
    Row("coaching:schedule", {"pk": "coaching"}, only(coach=DONE), method="post"),
    Row("coaching:note_add", {"pk": "coaching"}, only(coach=DONE), method="post"),
    Row("coaching:note_add", {"pk": "coaching"}, everyone(NOT_ALLOWED)),
    Row("coaching:seance_statut", {"pk": "seance_coaching"}, only(coach=DONE), method="post"),
    Row("coaching:seance_statut", {"pk": "seance_coaching"}, everyone(NOT_ALLOWED)),
    Row("coaching:seance_report", {"pk": "seance_coaching"}, only(cadre=DONE), method="post"),
    Row("coaching:seance_report", {"pk": "seance_coaching"}, everyone(NOT_ALLOWED)),
    # The shortlist is the cadre's; a discovery meeting is the cadre's and the coach's.
    Row("coaching:preselection", {"pk": "coaching_a_choisir"}, only(cadre=OK)),
    Row(
        "coaching:preselection_choisir",
        {"pk": "coaching_a_choisir"},
        only(cadre=DONE),
        method="post",
    ),
    Row("coaching:preselection_choisir", {"pk": "coaching_a_choisir"}, everyone(NOT_ALLOWED)),
    Row(
        "coaching:preselection_autre", {"pk": "coaching_a_choisir"}, only(cadre=DONE), method="post"
    ),
    Row("coaching:preselection_autre", {"pk": "coaching_a_choisir"}, everyone(NOT_ALLOWED)),
    Row("coaching:entretien_reserver", {"pk": "proposition_coach"}, only(cadre=OK)),
    Row(
        "coaching:entretien_reserver", {"pk": "proposition_coach"}, only(cadre=DONE), method="post"
    ),
    Row("coaching:entretien", {"pk": "entretien"}, only(cadre=OK, coach=OK)),
    Row(
        "coaching:entretien_annuler",
        {"pk": "entretien"},
        only(cadre=DONE, coach=DONE),
        method="post",
    ),
    Row("coaching:entretien_annuler", {"pk": "entretien"}, everyone(NOT_ALLOWED)),
]

# --- custom admin views --------------------------------------------------------------

ROWS += [
    Row("admin:coaching_coaching_budget", expect=staff()),
    Row("admin:coaching_coaching_schedule", {"pk": "coaching"}, staff(other_delegue=NOT_FOUND)),
    Row(
        "admin:coaching_coaching_schedule",
        {"pk": "coaching"},
        staff(DONE, other_delegue=NOT_FOUND),
        method="post",
    ),
    Row(
        "admin:coaching_coaching_preselection",
        {"pk": "coaching_a_choisir"},
        staff(other_delegue=NOT_FOUND),
    ),
    Row(
        "admin:coaching_coaching_preselection",
        {"pk": "coaching_a_choisir"},
        staff(DONE, other_delegue=NOT_FOUND),
        method="post",
    ),
    Row("admin:coaching_coaching_forfait", {"pk": "coaching"}, staff(other_delegue=NOT_FOUND)),
    Row(
        "admin:coaching_coaching_forfait",
        {"pk": "coaching"},
        staff(DONE, other_delegue=NOT_FOUND),
        method="post",
    ),
]
