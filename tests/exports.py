"""Helpers for the tests of the admin lists' exports (``cadres.exports``)."""

import csv
import io

from django.urls import reverse

BOM = "\ufeff"


def export_url(opts_or_model, fmt="csv"):
    opts = getattr(opts_or_model, "_meta", opts_or_model)
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_export_{fmt}")


def content(response):
    """Every byte of a streamed (or not) response."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def csv_text(response):
    text = content(response).decode("utf-8")
    assert text.startswith(BOM)  # Excel reads the file as UTF-8
    return text[len(BOM) :]


def csv_rows(response):
    """The CSV's rows (``;``-separated, as French spreadsheets expect), header first."""
    return list(csv.reader(io.StringIO(csv_text(response)), delimiter=";"))


def xlsx_rows(response):
    """The XLSX's first sheet, rows of cell values, header first."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content(response)), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def get_csv(client, model, params=None):
    response = client.get(export_url(model), params or {})
    assert response.status_code == 200, response.status_code
    return csv_rows(response)


def as_dicts(rows):
    header, *lines = rows
    return [dict(zip(header, line, strict=True)) for line in lines]
