"""The import pages of the admin: upload, progress, preview with the errors of each
row, confirmation, final report.

Mounted under ``/admin/import/`` in ``config/urls.py``, before the admin's own URLs;
every view goes through ``admin.site.admin_view`` (staff sign-in, MFA, no cache).
The rules live in ``cadres.importing``; this is the page around them.
"""

import csv

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_POST

from . import importing
from .models import ImportJob

PERMISSION = "cadres.add_cadre"  # délégués and national administrators
ERRORS_SHOWN = 500


class UploadForm(forms.Form):
    nature = forms.ChoiceField(
        label="Le fichier contient des",
        choices=ImportJob.Nature.choices,
        widget=forms.RadioSelect,
    )
    fichier = forms.FileField(
        label="Fichier",
        help_text="Fichier CSV (séparateur point-virgule ou virgule) ou classeur Excel .xlsx.",
    )

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        try:
            importing.check_extension(upload.name)
            importing.check_size(upload.size)
            self.content = upload.read()
            importing.check_upload(upload.name, self.content)
        except importing.ImportFileError as exc:
            raise ValidationError(str(exc)) from exc
        return upload


def _allowed(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _job(request, pk, queryset=None):
    """The job if the user may see it (its author, a national administrator), else 404."""
    _allowed(request)
    if queryset is None:
        queryset = ImportJob.objects.defer("contenu").select_related("cree_par")
    return get_object_or_404(queryset.visible_to(request.user), pk=pk)


def _context(request, title, **extra):
    return {**admin.site.each_context(request), "title": title, **extra}


def _lines(n):
    return f"{intcomma(n)} ligne{'s' if n > 1 else ''}"


def confirm_label(preview):
    """« Importer les 19 997 lignes valides ; 3 lignes en erreur seront ignorées »."""
    valid = preview.get("created", 0) + preview.get("updated", 0) + preview.get("unchanged", 0)
    skipped = preview.get("skipped", 0)
    label = "Importer la ligne valide" if valid == 1 else f"Importer les {_lines(valid)} valides"
    if skipped == 1:
        label += " ; 1 ligne en erreur sera ignorée"
    elif skipped:
        label += f" ; {_lines(skipped)} en erreur seront ignorées"
    return label


def upload_view(request):
    _allowed(request)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["fichier"]
            job = importing.submit(
                request.user, form.cleaned_data["nature"], upload.name, form.content
            )
            return redirect("cadres_import_job", job.pk)
    else:
        nature = request.GET.get("nature")
        form = UploadForm(initial={"nature": nature if nature in ImportJob.Nature else "cadres"})
    jobs = (
        ImportJob.objects.visible_to(request.user)
        .defer("contenu", "erreurs")
        .select_related("cree_par")[:10]
    )
    kinds = [
        (label, importing.IMPORTERS[nature].columns, nature)
        for nature, label in ImportJob.Nature.choices
    ]
    context = _context(
        request,
        "Importer des cadres ou des structures",
        form=form,
        jobs=jobs,
        kinds=kinds,
        max_size=importing.size_label(settings.IMPORT_MAX_UPLOAD_SIZE),
    )
    return TemplateResponse(request, "admin/cadres/import/upload.html", context)


def job_view(request, pk):
    job = _job(request, pk)
    finished = job.statut == ImportJob.Statut.TERMINE
    summary = job.rapport if finished else job.apercu
    errors_total = summary.get("errors", len(job.erreurs))
    context = _context(
        request,
        str(job),
        job=job,
        summary=summary,
        errors=job.erreurs[:ERRORS_SHOWN],
        errors_total=errors_total,
        errors_cut=errors_total > ERRORS_SHOWN,
        valid=importing.valid_rows(job),
        confirm_label=confirm_label(job.apercu),
        noun=job.get_nature_display().lower(),
        changelist=f"admin:cadres_{'cadre' if job.nature == 'cadres' else 'structure'}_changelist",
    )
    return TemplateResponse(request, "admin/cadres/import/job.html", context)


def status_view(request, pk):
    """What the page's progress bar polls every second."""
    fields = ("statut", "nb_lignes", "nb_traitees", "cree_par")
    job = _job(request, pk, ImportJob.objects.only(*fields))
    return JsonResponse(
        {
            "statut": job.statut,
            "libelle": job.get_statut_display(),
            "total": job.nb_lignes,
            "traitees": job.nb_traitees,
            "pourcentage": job.pourcentage,
            "en_cours": job.en_cours,
        }
    )


@require_POST
def confirm_view(request, pk):
    job = _job(request, pk)
    if importing.confirm(job.pk):
        messages.success(request, "Import lancé : seules les lignes valides sont importées.")
    else:
        messages.warning(request, "Cet import ne peut pas (ou plus) être lancé.")
    return redirect("cadres_import_job", job.pk)


def _csv_response(filename, header, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that Excel reads UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return response


def errors_view(request, pk):
    job = _job(request, pk)
    rows = ([e["ligne"], e["colonne"], e["message"]] for e in job.erreurs)
    return _csv_response(f"erreurs-import-{job.pk}.csv", ["ligne", "colonne", "erreur"], rows)


def model_view(request, nature):
    """An empty file with the expected headers, to start from."""
    _allowed(request)
    if nature not in ImportJob.Nature:
        raise Http404
    columns = importing.IMPORTERS[nature].columns
    return _csv_response(f"modele-import-{nature}.csv", [c.label for c in columns], [])


urlpatterns = [
    path("", admin.site.admin_view(upload_view), name="cadres_import"),
    path("<int:pk>/", admin.site.admin_view(job_view), name="cadres_import_job"),
    path("<int:pk>/etat.json", admin.site.admin_view(status_view), name="cadres_import_status"),
    path("<int:pk>/confirmer/", admin.site.admin_view(confirm_view), name="cadres_import_confirm"),
    path("<int:pk>/erreurs.csv", admin.site.admin_view(errors_view), name="cadres_import_errors"),
    path("modele-<str:nature>.csv", admin.site.admin_view(model_view), name="cadres_import_model"),
]
