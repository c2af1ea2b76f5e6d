"""The cadre's own file in the portal (``/espace/mon-dossier/``): read-only; the
documents are added by their délégué in the admin."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from cadres.models import Cadre

from . import dossier as dossier_module
from .models import DocumentParcours


def _own_cadre(user):
    """Only the cadre themselves: nobody reaches another person's file from here."""
    cadre = (
        Cadre.objects.select_related("structure")
        .filter(user=user, anonymise_le__isnull=True)
        .first()
    )
    if cadre is None:
        raise Http404("Aucun profil de cadre n'est rattaché à votre compte.")
    return cadre


def attachment(document):
    response = HttpResponse(bytes(document.contenu), content_type=document.type_fichier)
    name = document.nom_fichier.replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
def mon_dossier(request):
    cadre = _own_cadre(request.user)
    return render(
        request,
        "parcours/mon_dossier.html",
        {
            "page_title": "Mon dossier",
            "cadre": cadre,
            "dossier": dossier_module.build(cadre),
        },
    )


@never_cache
@login_required
def document(request, pk):
    cadre = _own_cadre(request.user)
    found = get_object_or_404(DocumentParcours, pk=pk, cadre=cadre, nom_fichier__gt="")
    return attachment(found)
