"""The cadre's file in the admin (``admin:cadres_cadre_dossier``), hung on the Cadre
admin by ``cadres.admin.CadreAdmin.get_urls``: the délégués of the cadre's perimeter
and the administrators read it (another perimeter: 404, like the change page) and
add or remove the documents of the bilan de parcours and the plan individuel.
"""

from auditlog.signals import accessed
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_POST

from . import dossier as dossier_module
from . import services
from .forms import DocumentForm
from .models import DocumentParcours
from .views import attachment


def dossier_urls(model_admin):
    """The file's URLs, named like the Cadre admin's own (``cadres_cadre_…``)."""
    wrap = model_admin.admin_site.admin_view

    def dossier_view(request, pk):
        cadre = _cadre(model_admin, request, pk)
        can_manage = model_admin.has_change_permission(request, cadre)
        form = None
        if can_manage:
            form = DocumentForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            if not can_manage:
                raise PermissionDenied
            if form.is_valid():
                document = services.add_document(cadre, form, by=request.user)
                messages.success(request, f"Document ajouté au dossier : {document}.")
                return redirect("admin:cadres_cadre_dossier", cadre.pk)
        else:
            accessed.send(sender=type(cadre), instance=cadre)  # who opened whose file
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": f"Dossier de {cadre}",
            "cadre": cadre,
            "dossier": dossier_module.build(cadre),
            "form": form,
            "can_manage": can_manage,
            "in_admin": True,
        }
        return TemplateResponse(request, "admin/parcours/dossier.html", context)

    def document_view(request, pk, document_pk):
        cadre = _cadre(model_admin, request, pk)
        found = get_object_or_404(DocumentParcours, pk=document_pk, cadre=cadre, nom_fichier__gt="")
        return attachment(found)

    def delete_view(request, pk, document_pk):
        cadre = _cadre(model_admin, request, pk)
        if not model_admin.has_change_permission(request, cadre):
            raise PermissionDenied
        found = get_object_or_404(
            DocumentParcours.objects.defer("contenu"), pk=document_pk, cadre=cadre
        )
        label = str(found)
        services.remove_document(found)
        messages.success(request, f"Document retiré du dossier : {label}.")
        return redirect("admin:cadres_cadre_dossier", cadre.pk)

    return [
        path("<int:pk>/dossier/", wrap(dossier_view), name="cadres_cadre_dossier"),
        path(
            "<int:pk>/dossier/documents/<int:document_pk>/",
            wrap(document_view),
            name="cadres_cadre_dossier_document",
        ),
        path(
            "<int:pk>/dossier/documents/<int:document_pk>/supprimer/",
            wrap(require_POST(delete_view)),
            name="cadres_cadre_dossier_document_supprimer",
        ),
    ]


def _cadre(model_admin, request, pk):
    """The cadre if the user may see them: 404 outside the perimeter (the Cadre admin's
    ``get_object``), 403 without the right to view cadres."""
    cadre = model_admin.get_object(request, str(pk))
    if not model_admin.has_view_permission(request, cadre):
        raise PermissionDenied
    return cadre
