"""Cohort programmes (``CohorteAdmin.get_urls``): the follow-up's exports, the
composition page and the actions (POST only), for a cohort of perimeter A. The
generated admin rows (list, add, change = follow-up, history...) come from ``admin.py``."""

from . import DONE, NOT_ALLOWED, NOT_FOUND, OK, Row
from .admin import staff

COHORTE_A = {"pk": "cohorte"}
SEEN_IN_A = staff(OK, other_delegue=NOT_FOUND)
DONE_IN_A = staff(DONE, other_delegue=NOT_FOUND)

ROWS = [
    Row("admin:cohortes_cohorte_groups", COHORTE_A, SEEN_IN_A),
    Row("admin:cohortes_cohorte_suivi_csv", COHORTE_A, SEEN_IN_A),
    Row("admin:cohortes_cohorte_suivi_xlsx", COHORTE_A, SEEN_IN_A),
]
for name in ("campaign", "compose", "move", "confirm_groups", "add_members", "remove_member"):
    ROWS += [
        Row(f"admin:cohortes_cohorte_{name}", COHORTE_A, DONE_IN_A, method="post"),
        Row(f"admin:cohortes_cohorte_{name}", COHORTE_A, staff(NOT_ALLOWED)),
    ]
