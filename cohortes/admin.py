"""Cohort programmes in the admin, the délégué's back-office, inside their perimeter:
the list, a creation page (from a vivier, a selection or a list), the follow-up page
(the change view), the launch of the mentoring campaign, the composition of the
co-development groups and the follow-up's exports. Every action calls
``cohortes.services``; refusals come back as French messages and change nothing."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_POST

from cadres.exports import StreamingExportMixin
from cadres.perimeter import PerimeterAdminMixin

from . import services
from .exports import SuiviExport
from .forms import CohorteCreationForm, ConfirmGroupsForm, MoveForm
from .models import Cohorte
from .suivi import follow_up


@admin.register(Cohorte)
class CohorteAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """The add page creates a cohort through the service; the change page is the
    follow-up, whose actions post to the URLs of ``get_urls``."""

    list_display = [
        "nom",
        "structure",
        "origine",
        "date_debut",
        "date_fin",
        "nb_membres",
        "statut",
        "creee_par",
    ]
    list_select_related = ["structure", "creee_par"]
    list_filter = ["statut", "origine"]
    search_fields = ["nom"]
    list_per_page = 50
    export_fields = [
        ("Programme", "nom"),
        ("Structure organisatrice", "structure"),
        ("Constituée à partir de", "get_origine_display"),
        ("Vivier", "vivier"),
        ("Début", "date_debut"),
        ("Fin", "date_fin"),
        ("Membres", "nb"),
        ("Droit à un coaching", "droit_coaching"),
        ("Droit à une immersion", "droit_immersion"),
        ("Campagne de mentorat", "campagne"),
        ("Statut", "get_statut_display"),
        ("Créée par", "creee_par"),
        ("Créée le", "creee_le"),
    ]
    export_select_related = ["vivier", "campagne"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(nb=Count("membres"))

    @admin.display(description="membres", ordering="nb")
    def nb_membres(self, obj):
        return obj.nb

    # --- Creation ----------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CohorteCreationForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                cohorte = services.create_cohort(request.user, **form.cleaned_data)
            except ValidationError as error:
                _errors_on(form, error)
            else:
                self.log_addition(request, cohorte, "Cohorte créée.")
                messages.success(
                    request,
                    f"La cohorte « {cohorte} » est créée avec {cohorte.membres.count()} "
                    "membre(s) : lancez sa campagne de mentorat et composez ses groupes.",
                )
                return redirect("admin:cohortes_cohorte_change", cohorte.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Nouveau programme de cohorte",
            "form": form,
            "programme_fields": [form[name] for name in CohorteCreationForm.PROGRAMME],
            "member_fields": [form[name] for name in CohorteCreationForm.MEMBERS],
        }
        return TemplateResponse(request, "admin/cohortes/cohorte/add.html", context)

    # --- Follow-up (the change page) ----------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        cohorte = self.get_object(request, unquote(object_id))  # 404 outside
        if not self.has_view_or_change_permission(request, cohorte):
            raise PermissionDenied
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        lines, figures = follow_up(cohorte, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Suivi de la cohorte : {cohorte}",
            "cohorte": cohorte,
            "original": cohorte,
            "lines": lines,
            "figures": figures,
            "groupes": list(cohorte.groupes.all()),
            "editable": self.has_change_permission(request, cohorte),
        }
        return TemplateResponse(request, "admin/cohortes/cohorte/suivi.html", context)

    # --- Custom views ------------------------------------------------------------------

    def get_urls(self):
        def view(method, post=False):
            return self.admin_site.admin_view(require_POST(method) if post else method)

        return [
            path(
                "<int:pk>/campagne/",
                view(self.campaign_view, post=True),
                name="cohortes_cohorte_campaign",
            ),
            path("<int:pk>/groupes/", view(self.groups_view), name="cohortes_cohorte_groups"),
            path(
                "<int:pk>/groupes/calculer/",
                view(self.compose_view, post=True),
                name="cohortes_cohorte_compose",
            ),
            path(
                "<int:pk>/groupes/deplacer/",
                view(self.move_view, post=True),
                name="cohortes_cohorte_move",
            ),
            path(
                "<int:pk>/groupes/confirmer/",
                view(self.confirm_groups_view, post=True),
                name="cohortes_cohorte_confirm_groups",
            ),
            path(
                "<int:pk>/membres/ajouter/",
                view(self.add_members_view, post=True),
                name="cohortes_cohorte_add_members",
            ),
            path(
                "<int:pk>/membres/retirer/",
                view(self.remove_member_view, post=True),
                name="cohortes_cohorte_remove_member",
            ),
            path(
                "<int:pk>/suivi.csv",
                view(self.suivi_csv_view),
                name="cohortes_cohorte_suivi_csv",
            ),
            path(
                "<int:pk>/suivi.xlsx",
                view(self.suivi_xlsx_view),
                name="cohortes_cohorte_suivi_xlsx",
            ),
            *super().get_urls(),
        ]

    def _cohorte(self, request, pk, change=True):
        cohorte = self.get_object(request, str(pk))  # 404 outside the perimeter
        allowed = (
            self.has_change_permission(request, cohorte)
            if change
            else self.has_view_or_change_permission(request, cohorte)
        )
        if not allowed:
            raise PermissionDenied
        return cohorte

    def _done(self, request, cohorte, error=None, success="", to="change"):
        if error is not None:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, success)
            self.log_change(request, cohorte, success)
        return redirect(f"admin:cohortes_cohorte_{to}", cohorte.pk)

    def campaign_view(self, request, pk):
        cohorte = self._cohorte(request, pk)
        try:
            campagne = services.launch_campaign(cohorte, by=request.user)
        except ValidationError as error:
            return self._done(request, cohorte, error)
        message = (
            f"Campagne « {campagne} » lancée et calculée : relisez ses propositions, puis "
            "confirmez pour les envoyer."
        )
        messages.success(request, message)
        self.log_change(request, cohorte, message)
        return redirect("admin:mentorat_campagne_change", campagne.pk)

    def groups_view(self, request, pk):
        cohorte = self._cohorte(request, pk, change=False)
        composition = cohorte.composition or {}
        membres = list(cohorte.membres.select_related("cadre__structure"))
        cadres = {m.cadre_id: m.cadre for m in membres}
        names = {pk: str(cadre) for pk, cadre in cadres.items()}
        explanations = composition.get("explanations", [])
        groups = [
            {
                "number": index + 1,
                "cadres": sorted((cadres[pk] for pk in group if pk in cadres), key=str),
                "explanation": explanations[index] if index < len(explanations) else "",
            }
            for index, group in enumerate(composition.get("groups", []))
        ]
        created = list(cohorte.groupes.select_related("animateur").order_by("nom"))
        editable = self.has_change_permission(request, cohorte) and not created
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Composer les groupes : {cohorte}",
            "cohorte": cohorte,
            "groups": groups,
            "composition": composition,
            "created": created,
            "editable": editable,
            "move_form": MoveForm(composition=composition, names=names) if groups else None,
            "confirm_form": ConfirmGroupsForm(cohorte=cohorte) if groups else None,
        }
        return TemplateResponse(request, "admin/cohortes/cohorte/groupes.html", context)

    def compose_view(self, request, pk):
        cohorte = self._cohorte(request, pk)
        try:
            composition = services.propose_groups(cohorte)
        except ValidationError as error:
            return self._done(request, cohorte, error, to="groups")
        return self._done(
            request,
            cohorte,
            success=f"Composition proposée : {len(composition['groups'])} groupe(s). "
            "Relisez-la, déplacez des personnes si besoin, puis confirmez.",
            to="groups",
        )

    def move_view(self, request, pk):
        cohorte = self._cohorte(request, pk)
        names = dict(cohorte.membres.values_list("cadre_id", "cadre__nom"))
        form = MoveForm(request.POST, composition=cohorte.composition or {}, names=names)
        if not form.is_valid():
            error = ValidationError("Choisissez une personne de la composition et un groupe.")
            return self._done(request, cohorte, error, to="groups")
        try:
            services.move_member(cohorte, form.cleaned_data["cadre"], form.cleaned_data["groupe"])
        except ValidationError as error:
            return self._done(request, cohorte, error, to="groups")
        return self._done(
            request,
            cohorte,
            success=f"Personne déplacée vers le groupe {form.cleaned_data['groupe'] + 1}.",
            to="groups",
        )

    def confirm_groups_view(self, request, pk):
        cohorte = self._cohorte(request, pk)
        form = ConfirmGroupsForm(request.POST, cohorte=cohorte)
        if not form.is_valid():
            problems = [
                f"{form.fields[name].label} : {message}" if name in form.fields else message
                for name, errors in form.errors.items()
                for message in errors
            ]
            return self._done(request, cohorte, ValidationError(problems), to="groups")
        try:
            created = services.confirm_groups(
                cohorte,
                animateurs=form.animateurs(),
                date_debut=form.cleaned_data["date_debut"],
                date_fin=form.cleaned_data["date_fin"],
                rythme_semaines=form.cleaned_data["rythme_semaines"],
                by=request.user,
            )
        except ValidationError as error:
            return self._done(request, cohorte, error, to="groups")
        return self._done(
            request,
            cohorte,
            success=f"{len(created)} groupe(s) de codéveloppement créé(s) : leurs animateurs "
            "planifient les séances.",
        )

    def add_members_view(self, request, pk):
        cohorte = self._cohorte(request, pk)
        try:
            added = services.add_members(request.user, cohorte, request.POST.get("liste", ""))
        except ValidationError as error:
            return self._done(request, cohorte, error)
        if not added:
            messages.info(request, "Ces cadres sont déjà membres de la cohorte.")
            return redirect("admin:cohortes_cohorte_change", cohorte.pk)
        return self._done(
            request,
            cohorte,
            success=f"{len(added)} membre(s) ajouté(s) : " + ", ".join(str(c) for c in added) + ".",
        )

    def remove_member_view(self, request, pk):
        cohorte = self._cohorte(request, pk)
        cadre_id = request.POST.get("cadre", "")
        membre = (
            cohorte.membres.select_related("cadre").filter(cadre_id=cadre_id).first()
            if cadre_id.isdigit()
            else None
        )
        if membre is None:
            error = ValidationError("Cette personne n'est pas membre de la cohorte.")
            return self._done(request, cohorte, error)
        services.remove_member(cohorte, membre.cadre_id)
        return self._done(
            request, cohorte, success=f"{membre.cadre} ne fait plus partie de la cohorte."
        )

    def suivi_csv_view(self, request, pk):
        return SuiviExport(self._cohorte(request, pk, change=False)).export_csv_view(request)

    def suivi_xlsx_view(self, request, pk):
        return SuiviExport(self._cohorte(request, pk, change=False)).export_xlsx_view(request)


def _errors_on(form, error):
    """A service's ValidationError back on the form's fields (or the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                form.add_error(field if field in form.fields else None, item)
    else:
        for message in error.messages:
            form.add_error(None, message)
