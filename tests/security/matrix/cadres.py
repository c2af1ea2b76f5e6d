"""Staff pages outside the ModelAdmins: the dashboard and the HR import.

An import job is seen by its author and by national administrators only: another
délégué gets 404 (the job's id tells nothing).
"""

from . import DONE, NOT_ALLOWED, NOT_FOUND, OK, Row
from .admin import staff

OWN_JOB = staff(OK, other_delegue=NOT_FOUND)

ROWS = [
    Row("admin_dashboard", expect=staff()),
    Row("cadres_import", expect=staff()),
    Row("cadres_import", method="post", expect=staff(DONE)),
    Row("cadres_import_job", {"pk": "import_job"}, OWN_JOB),
    Row("cadres_import_status", {"pk": "import_job"}, OWN_JOB),
    Row("cadres_import_errors", {"pk": "import_job"}, OWN_JOB),
    Row(
        "cadres_import_confirm",
        {"pk": "import_job"},
        staff(DONE, other_delegue=NOT_FOUND),
        method="post",
    ),
    Row("cadres_import_confirm", {"pk": "import_job"}, staff(NOT_ALLOWED)),
    Row("cadres_import_model", lambda w: {"nature": "cadres"}, staff(), variant="cadres"),
    Row(
        "cadres_import_model", lambda w: {"nature": "inconnu"}, staff(NOT_FOUND), variant="unknown"
    ),
]
