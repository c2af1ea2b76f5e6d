"""Exports of the admin lists, to CSV and XLSX, exactly as the délégué sees them.

One mixin for every ``ModelAdmin``: ``StreamingExportMixin`` adds two URLs next to the
changelist (``export.csv`` and ``export.xlsx``) and two buttons on it that keep the
current query string. The rows are the changelist's own queryset: the perimeter
(``get_queryset``), the filters, the search and the ordering all apply, and the whole
filtered list is exported, not only the page shown.

Large lists stay cheap: rows are read with ``QuerySet.iterator(chunk_size=...)`` (the
prefetches run once per chunk), the CSV is streamed as it is written and the XLSX is
written by openpyxl's write-only mode to a spooled temporary file, so memory stays
constant whatever the number of rows.

Columns come from the admin's import-export ``Resource`` (``export_resource_class``:
its fields, its ``dehydrate_*`` methods, its order), or from ``export_fields``, a list
of ``(header, accessor)`` where the accessor is a callable taking the object, the name
of a method of the admin taking the object, or an attribute path ("cadre__email";
methods on the way, such as ``get_statut_display``, are called). What is confidential
(coaching notes, what is said in a co-development séance, private notes on mentoring
meetings) is never a column of any export.
"""

import csv
import logging
import re
import tempfile
from datetime import date, datetime
from decimal import Decimal

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied
from django.db.models import Manager, Model
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import content_disposition_header
from django.utils.text import capfirst, slugify

logger = logging.getLogger(__name__)

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
# A spreadsheet reads a cell starting with one of these as a formula: a name typed
# in the portal must never run as one (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters XML (hence XLSX) refuses.
ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
CSV_ROWS_PER_YIELD = 200
XLSX_MEMORY = 8 * 1024 * 1024  # beyond, the spooled file goes to disk


class _Echo:
    """A file-like object whose ``write`` hands the line back: csv.writer writes a row
    and the generator yields it."""

    def write(self, value):
        return value


def resolve(obj, accessor):
    """The value at ``accessor`` ("a__b__c") from ``obj``; None when a link is empty.
    Callables found on the way (``get_x_display``) are called; related managers are not."""
    value = obj
    for part in accessor.split("__"):
        try:
            value = getattr(value, part)
        except ObjectDoesNotExist:
            return None
        if value is None:
            return None
        if callable(value) and not isinstance(value, Manager):
            value = value()
    return value


DISPLAY = re.compile(r"get_(\w+)_display")


def getter_for(model, accessor):
    """A function reading ``accessor`` from an object of ``model``, as ``resolve``
    does. A final ``get_x_display`` is looked up in the field's choices, computed
    once (Django's rebuilds them at each call: this is the export's hot loop)."""
    *path, last = accessor.split("__")
    display = DISPLAY.fullmatch(last)
    owner = model
    for part in path:
        try:
            owner = owner._meta.get_field(part).related_model
        except FieldDoesNotExist:
            owner = None
        if owner is None:
            break
    field = None
    if display and owner is not None:
        try:
            field = owner._meta.get_field(display[1])
        except FieldDoesNotExist:
            field = None
    if field is None or not field.flatchoices:
        return lambda obj: resolve(obj, accessor)
    try:
        labels = {value: force_str(label) for value, label in field.flatchoices}
    except TypeError:  # unhashable choices
        return lambda obj: resolve(obj, accessor)
    prefix, attname = "__".join(path), field.attname

    def read(obj):
        target = resolve(obj, prefix) if prefix else obj
        if target is None:
            return None
        value = getattr(target, attname)
        return labels.get(value, value)

    return read


def plain(value, tz=None):
    """A cell's value, typed: dates stay dates (local time, ``tz``), numbers stay
    numbers, the rest becomes text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(tz or timezone.get_current_timezone())
        return value.replace(tzinfo=None)
    if isinstance(value, (date, int, float, Decimal)):
        return value
    if isinstance(value, Manager):
        return ", ".join(str(item) for item in value.all())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(force_str(item) for item in value)
    if isinstance(value, Model):
        return str(value)
    return force_str(value)


def csv_text(value):
    """A typed cell as French spreadsheets read a ``;``-separated file."""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, (float, Decimal)):
        return str(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return _defused(value)


def _defused(text):
    text = ILLEGAL_XML.sub("", text)
    return f"'{text}" if text.startswith(FORMULA_START) else text


class StreamingExportMixin:
    """CSV and XLSX exports of the changelist, for any ``ModelAdmin``.

    Set ``export_resource_class`` (an import-export ``ModelResource``) or
    ``export_fields``. ``export_select_related`` and ``export_prefetch_related``
    add what the columns read beyond the list's own queryset.
    """

    change_list_template = "admin/streaming_export_change_list.html"
    export_resource_class = None
    export_fields = None
    export_select_related = ()
    export_prefetch_related = ()
    export_chunk_size = 500

    # --- URLs ------------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv_view),
                name=f"{prefix}_export_csv",
            ),
            path(
                "export.xlsx",
                self.admin_site.admin_view(self.export_xlsx_view),
                name=f"{prefix}_export_xlsx",
            ),
            *super().get_urls(),
        ]

    # --- Columns ---------------------------------------------------------------------

    def get_export_columns(self, request):
        """``[(header, getter)]``: the getter takes the object and returns its value."""
        if self.export_resource_class is not None:
            return self._resource_columns(self.export_resource_class())
        if self.export_fields is None:
            raise NotImplementedError(
                f"{type(self).__name__}: set export_resource_class or export_fields."
            )
        return [
            (force_str(header), self._getter(accessor)) for header, accessor in self.export_fields
        ]

    def _getter(self, accessor):
        if callable(accessor):
            return accessor
        if (
            "__" not in accessor
            and not hasattr(self.model, accessor)
            and callable(getattr(self, accessor, None))
        ):
            return getattr(self, accessor)  # a column method of the admin
        return getter_for(self.model, accessor)

    def _resource_columns(self, resource):
        columns = []
        for field in resource.get_export_fields():
            name = resource.get_field_name(field)
            method = field.get_dehydrate_method(name)
            if not callable(method):
                method = getattr(resource, method, None)
            if method is not None:
                getter = method
            elif field.attribute:
                # The raw value, not the widget's text: dates and numbers stay typed.
                getter = getter_for(resource._meta.model, field.attribute)
            else:
                getter = field.get_value  # None, as import-export exports it
            columns.append((self._resource_header(resource, field, name), getter))
        return columns

    def _resource_header(self, resource, field, name):
        """The column's name, or the model field's French label when the resource kept
        the default (the field's name)."""
        header = force_str(field.column_name)
        if header == name and field.attribute == name:
            model = resource._meta.model
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                return header
            if model_field.primary_key:
                return "Identifiant"
            return capfirst(force_str(model_field.verbose_name))
        return capfirst(header)

    # --- Rows ----------------------------------------------------------------------------

    def get_export_queryset(self, request):
        """The changelist's queryset (perimeter, filters, search, ordering), all pages."""
        changelist = self.get_changelist_instance(request)
        queryset = changelist.queryset
        if self.export_select_related:
            queryset = queryset.select_related(*self.export_select_related)
        if self.export_prefetch_related:
            queryset = queryset.prefetch_related(*self.export_prefetch_related)
        return queryset

    def iter_export_rows(self, queryset, columns):
        tz = timezone.get_current_timezone()
        getters = [getter for _, getter in columns]
        for obj in queryset.iterator(chunk_size=self.export_chunk_size):
            yield [plain(getter(obj), tz) for getter in getters]

    def export_filename(self, extension):
        name = slugify(self.opts.verbose_name_plural) or self.opts.model_name
        return f"{name}-{timezone.localdate():%Y-%m-%d}.{extension}"

    # --- Views -----------------------------------------------------------------------

    def _prepare_export(self, request, extension):
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_export_queryset(request)  # may raise IncorrectLookupParameters
        columns = self.get_export_columns(request)
        logger.info(
            "Export %s of %s by user %s (%s)",
            extension,
            self.opts.label,
            request.user.pk,
            request.GET.urlencode() or "no filter",
        )
        return queryset, columns

    def _invalid_filters(self, request):
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")

    def export_csv_view(self, request):
        try:
            queryset, columns = self._prepare_export(request, "csv")
        except IncorrectLookupParameters:
            return self._invalid_filters(request)
        response = StreamingHttpResponse(
            self._csv_lines(queryset, columns), content_type=CSV_CONTENT_TYPE
        )
        response["Content-Disposition"] = content_disposition_header(
            True, self.export_filename("csv")
        )
        return response

    def _csv_lines(self, queryset, columns):
        writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
        # The BOM tells Excel the file is UTF-8 (accents).
        yield ("\ufeff" + writer.writerow([_defused(h) for h, _ in columns])).encode()
        batch = []
        for row in self.iter_export_rows(queryset, columns):
            batch.append(writer.writerow([csv_text(value) for value in row]))
            if len(batch) >= CSV_ROWS_PER_YIELD:
                yield "".join(batch).encode()
                batch = []
        if batch:
            yield "".join(batch).encode()

    def export_xlsx_view(self, request):
        try:
            queryset, columns = self._prepare_export(request, "xlsx")
        except IncorrectLookupParameters:
            return self._invalid_filters(request)
        # Closed by the response once sent.
        output = tempfile.SpooledTemporaryFile(max_size=XLSX_MEMORY)  # noqa: SIM115
        self._write_xlsx(output, queryset, columns)
        output.seek(0)
        return FileResponse(
            output,
            as_attachment=True,
            filename=self.export_filename("xlsx"),
            content_type=XLSX_CONTENT_TYPE,
        )

    def _write_xlsx(self, output, queryset, columns):
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_sheet_title(self.opts.verbose_name_plural))
        for index, (header, _) in enumerate(columns, start=1):
            width = min(max(len(header) + 2, 12), 50)
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)

        def cell(value):
            """Plain values as they are (openpyxl's fast path); a styled cell for dates
            and for text a spreadsheet would read as a formula."""
            if isinstance(value, str):
                value = ILLEGAL_XML.sub("", value)
                if not value.startswith("="):
                    return value
                item = WriteOnlyCell(sheet, value=value)
                item.data_type = "s"  # text stays text: never a formula
                return item
            if isinstance(value, date):
                item = WriteOnlyCell(sheet, value=value)
                is_datetime = isinstance(value, datetime)
                item.number_format = XLSX_DATETIME_FORMAT if is_datetime else XLSX_DATE_FORMAT
                return item
            return value

        def header(text):
            item = WriteOnlyCell(sheet, value=ILLEGAL_XML.sub("", text))
            item.data_type, item.font = "s", bold
            return item

        sheet.append([header(text) for text, _ in columns])
        for row in self.iter_export_rows(queryset, columns):
            sheet.append([cell(value) for value in row])
        workbook.save(output)


def _sheet_title(name):
    """A valid worksheet title: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", " ", capfirst(force_str(name)))[:31] or "Export"
