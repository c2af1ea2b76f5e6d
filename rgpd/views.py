"""The cadre's personal-data page in the portal (``/espace/mes-donnees/``): what is
held about them, downloaded as JSON or as a PDF summary; and the public page stating
the processing (mentions RGPD)."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accompagnement.models import Dispositif
from cadres.models import Cadre

from . import services


def _own_cadre(request):
    """Only the cadre themselves: there is no page for anybody else's data."""
    cadre = Cadre.objects.filter(user=request.user, anonymise_le__isnull=True).first()
    if cadre is None:
        raise Http404("Aucun profil de cadre n'est rattaché à votre compte.")
    return cadre


def _attachment(content, content_type, name):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _filename(cadre, extension):
    return f"mes-donnees-{cadre.pk}-{timezone.localdate():%Y-%m-%d}.{extension}"


@never_cache
@login_required
def my_data(request):
    cadre = _own_cadre(request)
    return render(
        request,
        "rgpd/mes_donnees.html",
        {
            "page_title": "Mes données personnelles",
            "cadre": cadre,
            "retention_years": settings.RGPD_RETENTION_YEARS,
        },
    )


@never_cache
@login_required
def my_data_json(request):
    cadre = _own_cadre(request)
    content = json.dumps(
        services.export_data(cadre), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
    )
    return _attachment(content, "application/json; charset=utf-8", _filename(cadre, "json"))


@never_cache
@login_required
def my_data_pdf(request):
    from weasyprint import HTML

    cadre = _own_cadre(request)
    data = services.export_data(cadre)
    labels = dict(Dispositif.choices)
    schemes = [(labels.get(code, code), rows) for code, rows in data["dispositifs"].items()]
    html = render_to_string(
        "rgpd/synthese.html",
        {"data": data, "schemes": schemes, "cadre": cadre, "product_name": settings.PRODUCT_NAME},
    )
    return _attachment(HTML(string=html).write_pdf(), "application/pdf", _filename(cadre, "pdf"))


def mentions(request):
    return render(
        request,
        "pages/donnees_personnelles.html",
        {
            "page_title": "Données personnelles",
            "retention_years": settings.RGPD_RETENTION_YEARS,
            "dpo_email": settings.RGPD_DPO_EMAIL,
        },
    )
