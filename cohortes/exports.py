"""Exports of a cohort's follow-up (CSV, XLSX) through the project's streaming exports
(``cadres.exports``): the same French headers and dates, the same defence against
formulas. The rows are the follow-up page's lines, never anything confidential."""

from types import SimpleNamespace

from django.utils import timezone
from django.utils.text import slugify

from cadres.exports import StreamingExportMixin, plain

from .suivi import COLUMNS, follow_up


class SuiviExport(StreamingExportMixin):
    """The follow-up of one cohort, whose access the admin view has checked."""

    opts = SimpleNamespace(label="cohortes.cohorte", verbose_name_plural="Suivi de la cohorte")

    def __init__(self, cohorte):
        self.cohorte = cohorte

    def has_view_permission(self, request, obj=None):
        return True  # checked by the admin view (perimeter and permission)

    def get_export_queryset(self, request):
        lines, _ = follow_up(self.cohorte, user=request.user)
        return lines

    def get_export_columns(self, request):
        return COLUMNS

    def iter_export_rows(self, lines, columns):
        tz = timezone.get_current_timezone()
        for line in lines:
            yield [plain(getter(line), tz) for _, getter in columns]

    def export_filename(self, extension):
        name = slugify(f"suivi {self.cohorte.nom}") or "suivi-cohorte"
        return f"{name}-{timezone.localdate():%Y-%m-%d}.{extension}"
