"""Mentoring in the admin, the délégué's back-office: the domains referential, the
mentor pool, the waiting list, matching campaigns (compute, review, confirm) and the
relations, each inside the délégué's perimeter.

Every change of substance goes through ``mentorat.services``: a campaign's review
page posts its actions to custom URLs that call the services, and a relation's
status changes only through ``services.change_status``; refusals come back as French
messages and change nothing. The private notes on meetings (``NotePrivee``) have no
admin page, no inline and no export, on purpose: only their author reads them.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from import_export import fields, resources

from accompagnement.models import Session
from cadres.admin_mixins import ReadOnlyAdminMixin
from cadres.exports import StreamingExportMixin
from cadres.perimeter import (
    PerimeterAdminMixin,
    is_national_admin,
)

from . import activite, services
from .admin_forms import MentoratAdminForm, OffreConfirmForm, OffreSkipForm, SwapForm
from .models import (
    Campagne,
    Domaine,
    Mentor,
    Mentorat,
    Mentore,
    MentoreEnAttente,
    Offre,
    PointEtape,
    Rencontre,
)

SILENCE_WEEKS = services.SILENCE.days // 7


def _date(value):
    return value.strftime("%d/%m/%Y") if value else "—"


# --- Referential ---------------------------------------------------------------------


@admin.register(Domaine)
class DomaineAdmin(StreamingExportMixin, admin.ModelAdmin):
    """A national referential: administrators edit it, délégués read it."""

    list_display = ["libelle", "code"]
    search_fields = ["libelle", "code"]
    export_fields = [("Domaine d'expertise", "libelle"), ("Code", "code")]
    prepopulated_fields = {"code": ["libelle"]}

    def has_add_permission(self, request):
        return is_national_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_national_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_national_admin(request.user) and super().has_delete_permission(request, obj)


# --- Mentor pool -----------------------------------------------------------------------


class MentorResource(resources.ModelResource):
    civilite = fields.Field(attribute="get_civilite_display", column_name="civilité")
    structure = fields.Field(attribute="structure__nom", column_name="structure")
    domaines = fields.Field(column_name="domaines d'expertise")
    charge = fields.Field(attribute="charge", column_name="mentorés en cours")

    class Meta:
        model = Mentor
        fields = [
            "id",
            "civilite",
            "nom",
            "prenom",
            "email",
            "fonction",
            "structure",
            "ville",
            "annees_experience",
            "domaines",
            "capacite",
            "charge",
            "disponible_du",
            "disponible_au",
            "actif",
        ]
        export_order = fields

    def dehydrate_domaines(self, mentor):
        return ", ".join(d.libelle for d in mentor.domaines.all())


@admin.register(Mentor)
class MentorAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """Mentors of the délégué's perimeter, plus those attached to no structure (retired,
    outside the State), who form a pool shared by every délégué."""

    export_resource_class = MentorResource
    change_form_template = "admin/mentorat/mentor/change_form.html"
    list_display = [
        "nom_complet",
        "structure",
        "ville",
        "domaines_list",
        "charge_col",
        "disponibilite",
        "actif",
    ]
    list_select_related = ["structure"]
    list_filter = ["actif", "domaines"]
    search_fields = ["nom", "prenom", "email", "ville", "fonction", "structure__sigle"]
    autocomplete_fields = ["cadre", "structure", "user"]
    filter_horizontal = ["domaines"]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        ("Identité", {"fields": ["civilite", "nom", "prenom", "email", "fonction"]}),
        ("Rattachement", {"fields": ["structure", "ville", "cadre", "user"]}),
        ("Profil", {"fields": ["annees_experience", "domaines", "langues", "presentation"]}),
        ("Disponibilité", {"fields": ["capacite", ("disponible_du", "disponible_au"), "actif"]}),
    ]

    def get_queryset(self, request):
        # Not the mixin's filter, which would hide the shared pool. ``order_by``: an
        # annotated (GROUP BY) queryset loses Meta.ordering, which pagination needs.
        return (
            super(PerimeterAdminMixin, self)
            .get_queryset(request)
            .visible_to(request.user)
            .with_load()
            .select_related("structure")
            .prefetch_related("domaines")
            .order_by("nom", "prenom", "pk")
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/activite.<str:fmt>",
                self.admin_site.admin_view(self.activite_view),
                name="mentorat_mentor_activite",
            ),
            *super().get_urls(),
        ]

    def activite_view(self, request, pk, fmt):
        """The mentor's activity record, as the mentor downloads it, limited to the
        relations of the délégué's perimeter."""
        if fmt not in ("pdf", "csv"):
            raise Http404
        mentor = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_view_permission(request, mentor):
            raise PermissionDenied
        return activite.response(
            mentor,
            Mentorat.objects.visible_to(request.user),
            fmt,
            request.GET.get("annee"),
            partial=not is_national_admin(request.user),
        )

    def get_readonly_fields(self, request, obj=None):
        # Délégués do not browse user accounts: linking one is for administrators.
        return [] if is_national_admin(request.user) else ["user"]

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # The "Changer de mentor" picker of a campaign offers active mentors only.
        if request.GET.get("model_name") == "proposition":
            queryset = queryset.filter(actif=True)
        return queryset, distinct

    def save_model(self, request, obj, form, change):
        # Places before the change: the queue is offered what a change frees.
        obj._places_before = (
            Mentor.objects.filter(pk=obj.pk).values_list("capacite", "actif").first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # domains first: they score
        offre = services.mentor_saved(form.instance, form.instance._places_before)
        if offre is not None:
            messages.info(
                request,
                f"Une place de {offre.mentor} est offerte à {offre.mentore}, le mieux placé "
                "de la file d'attente : confirmez ou passez cette offre.",
            )

    @admin.display(description="nom", ordering="nom")
    def nom_complet(self, obj):
        return f"{obj.get_civilite_display()} {obj.prenom} {obj.nom.upper()}"

    @admin.display(description="domaines d'expertise")
    def domaines_list(self, obj):
        return ", ".join(d.libelle for d in obj.domaines.all()) or "—"

    @admin.display(description="charge / capacité", ordering="charge")
    def charge_col(self, obj):
        text = f"{obj.charge} / {obj.capacite}"
        if obj.charge >= obj.capacite:
            return format_html("<strong>{} (complet)</strong>", text)
        return text

    @admin.display(description="disponibilité", ordering="disponible_du")
    def disponibilite(self, obj):
        if obj.disponible_du and obj.disponible_au:
            return f"du {_date(obj.disponible_du)} au {_date(obj.disponible_au)}"
        if obj.disponible_du:
            return f"à partir du {_date(obj.disponible_du)}"
        if obj.disponible_au:
            return f"jusqu'au {_date(obj.disponible_au)}"
        return "sans limite"


# --- Waiting list ----------------------------------------------------------------------

MENTOR_PICKERS = ("mentors_souhaites", "mentors_exclus")


class MentoreResource(resources.ModelResource):
    cadre = fields.Field(attribute="cadre", column_name="cadre")
    email = fields.Field(attribute="cadre__email", column_name="courriel")
    structure = fields.Field(attribute="cadre__structure__nom", column_name="structure")
    contexte = fields.Field(attribute="get_contexte_display", column_name="contexte")
    besoins = fields.Field(column_name="besoins")
    statut = fields.Field(attribute="get_statut_display", column_name="statut")

    class Meta:
        model = Mentore
        fields = [
            "id",
            "cadre",
            "email",
            "structure",
            "contexte",
            "besoins",
            "statut",
            "en_attente_depuis",
            "motif_attente",
        ]
        export_order = fields

    def dehydrate_besoins(self, mentore):
        return ", ".join(d.libelle for d in mentore.besoins.all())


@admin.register(Mentore)
class MentoreAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = "cadre__structure"
    export_resource_class = MentoreResource
    list_display = [
        "cadre",
        "structure",
        "contexte",
        "besoins_list",
        "statut",
        "attente",
        "motif_attente",
    ]
    list_select_related = ["cadre__structure"]
    list_filter = ["statut", "contexte"]
    search_fields = ["cadre__nom", "cadre__prenom", "cadre__email"]
    autocomplete_fields = ["cadre"]
    filter_horizontal = ["besoins", *MENTOR_PICKERS]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            "Mentoré",
            {
                "fields": [
                    "cadre",
                    "demande",
                    "contexte",
                    "objectifs",
                    "annees_experience",
                    ("ville", "mode_souhaite"),
                ]
            },
        ),
        ("Besoins et souhaits", {"fields": ["besoins", *MENTOR_PICKERS]}),
        ("Liste d'attente", {"fields": ["statut", "attente", "motif_attente", "cree_le"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("cadre__structure")
            .prefetch_related("besoins")
        )

    def get_readonly_fields(self, request, obj=None):
        # The status and the reason follow the campaigns and the answers (services).
        fields = ["demande", "statut", "attente", "motif_attente", "cree_le"]
        if obj is not None:
            fields.append("cadre")
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in MENTOR_PICKERS:
            kwargs["queryset"] = Mentor.objects.visible_to(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        # Wishes and exclusions naming a mentor this user cannot see (another
        # ministry's) are not offered by the pickers: saving must not drop them.
        hidden = {}
        if change:
            visible = Mentor.objects.visible_to(request.user).values("pk")
            for name in MENTOR_PICKERS:
                hidden[name] = list(getattr(form.instance, name).exclude(pk__in=visible))
        super().save_related(request, form, formsets, change)
        for name, mentors in hidden.items():
            getattr(form.instance, name).add(*mentors)

    @admin.display(description="structure", ordering="cadre__structure__nom")
    def structure(self, obj):
        return obj.cadre.structure

    @admin.display(description="besoins")
    def besoins_list(self, obj):
        return ", ".join(d.libelle for d in obj.besoins.all()) or "—"

    @admin.display(description="en attente depuis", ordering="en_attente_depuis")
    def attente(self, obj):
        return _attente(obj)


def _attente(mentore):
    """Since when, and for how many days, a mentee waits."""
    if mentore is None or mentore.pk is None:
        return "—"
    since = timezone.localtime(mentore.en_attente_depuis)
    if mentore.statut != Mentore.Statut.EN_ATTENTE:
        return f"{since:%d/%m/%Y}"
    days = (timezone.localdate() - since.date()).days
    return f"{since:%d/%m/%Y} ({days} jour{'s' if days > 1 else ''})"


# --- Waiting queue and its offers ------------------------------------------------------


@admin.register(MentoreEnAttente)
class FileAttenteAdmin(
    ReadOnlyAdminMixin, PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin
):
    """The queue, read-only: who waits, since when, why, and the offer under way. Needs
    and wishes are edited on the waiting list's page (``MentoreAdmin``)."""

    perimeter_field = "cadre__structure"
    list_display = [
        "mentore_col",
        "structure",
        "besoins_list",
        "attente_col",
        "motif_attente",
        "offre_col",
    ]
    list_display_links = None
    list_filter = ["contexte"]
    search_fields = ["cadre__nom", "cadre__prenom", "cadre__email"]
    ordering = ["en_attente_depuis", "pk"]
    list_per_page = 50
    show_full_result_count = False
    export_fields = [
        ("Mentoré", "cadre"),
        ("Courriel", "cadre__email"),
        ("Structure", "cadre__structure__nom"),
        ("Contexte", "get_contexte_display"),
        ("En attente depuis", "en_attente_depuis"),
        ("Jours d'attente", "jours_attente"),
        ("Motif de l'attente", "motif_attente"),
        ("Offre en cours", "offre_text"),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .waiting()
            .select_related("cadre__structure")
            .prefetch_related(
                "besoins",
                Prefetch(
                    "offres",
                    queryset=Offre.objects.open().select_related("mentor"),
                    to_attr="offres_ouvertes",
                ),
            )
        )

    @admin.display(description="mentoré", ordering="cadre__nom")
    def mentore_col(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:mentorat_mentore_change", args=[obj.pk]),
            obj.cadre,
        )

    @admin.display(description="structure", ordering="cadre__structure__nom")
    def structure(self, obj):
        return obj.cadre.structure

    @admin.display(description="besoins")
    def besoins_list(self, obj):
        return ", ".join(d.libelle for d in obj.besoins.all()) or "—"

    @admin.display(description="en attente depuis", ordering="en_attente_depuis")
    def attente_col(self, obj):
        return _attente(obj)

    def jours_attente(self, obj):
        return (timezone.localdate() - timezone.localtime(obj.en_attente_depuis).date()).days

    @admin.display(description="offre en cours")
    def offre_col(self, obj):
        if not obj.offres_ouvertes:
            return "—"
        offre = obj.offres_ouvertes[0]
        return format_html(
            '<a href="{}">Place chez {} (score {})</a>',
            reverse("admin:mentorat_offre_change", args=[offre.pk]),
            offre.mentor,
            offre.score,
        )

    def offre_text(self, obj):
        offre = obj.offres_ouvertes[0] if obj.offres_ouvertes else None
        return f"{offre.mentor} (score {offre.score})" if offre else ""


@admin.register(Offre)
class OffreAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """Offers made when a mentor frees a place. The change page is the decision page:
    confirm (a proposed relation, as from a campaign) or skip (the next mentee is
    offered), through ``services``. Offers come from the services only: no add form."""

    perimeter_field = "mentore__cadre__structure"
    list_display = [
        "mentor",
        "mentore_col",
        "attente_col",
        "score",
        "evenement",
        "statut",
        "cree_le",
    ]
    list_select_related = ["mentor", "mentore__cadre__structure"]
    list_filter = ["statut", "evenement"]
    search_fields = [
        "mentor__nom",
        "mentor__prenom",
        "mentore__cadre__nom",
        "mentore__cadre__prenom",
    ]
    list_per_page = 50
    show_full_result_count = False
    export_fields = [
        ("Mentor", "mentor"),
        ("Mentoré", "mentore__cadre"),
        ("Structure du mentoré", "mentore__cadre__structure__nom"),
        ("En attente depuis", "mentore__en_attente_depuis"),
        ("Score", "score"),
        ("Place libérée par", "get_evenement_display"),
        ("Statut", "get_statut_display"),
        ("Offerte le", "cree_le"),
        ("Traitée le", "traitee_le"),
        ("Motif", "motif"),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="mentoré", ordering="mentore__cadre__nom")
    def mentore_col(self, obj):
        return obj.mentore.cadre

    @admin.display(description="en attente depuis", ordering="mentore__en_attente_depuis")
    def attente_col(self, obj):
        return _attente(obj.mentore)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        offre = self.get_object(request, unquote(object_id))  # 404 outside the perimeter
        if not self.has_view_or_change_permission(request, offre):
            raise PermissionDenied
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        offre = (
            Offre.objects.select_related(
                "mentor__structure", "mentore__cadre__structure", "traitee_par", "mentorat"
            )
            .prefetch_related("mentore__besoins")
            .get(pk=offre.pk)
        )
        decidable = offre.statut == Offre.Statut.OUVERTE and self.has_change_permission(
            request, offre
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Offre de la file d'attente : {offre.mentor} → {offre.mentore}",
            "offre": offre,
            "attente": _attente(offre.mentore),
            "charge": Mentorat.objects.filter(
                mentor=offre.mentor, statut__in=Mentorat.HOLDING_STATUSES
            ).count(),
            "decidable": decidable,
            "confirm_form": OffreConfirmForm() if decidable else None,
            "skip_form": OffreSkipForm() if decidable else None,
        }
        return TemplateResponse(request, "admin/mentorat/offre/decision.html", context)

    def get_urls(self):
        def view(method):
            return self.admin_site.admin_view(require_POST(method))

        return [
            path("<int:pk>/confirmer/", view(self.confirm_view), name="mentorat_offre_confirm"),
            path("<int:pk>/passer/", view(self.skip_view), name="mentorat_offre_skip"),
            *super().get_urls(),
        ]

    def _offre(self, request, pk):
        offre = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_change_permission(request, offre):
            raise PermissionDenied
        return offre

    def _back(self, offre):
        return redirect("admin:mentorat_offre_change", offre.pk)

    def confirm_view(self, request, pk):
        offre = self._offre(request, pk)
        form = OffreConfirmForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
            return self._back(offre)
        try:
            offre = services.confirm_offer(
                offre, by=request.user, duree_mois=form.cleaned_data["duree_mois"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return self._back(offre)
        self.log_change(request, offre, "Offre confirmée.")
        messages.success(
            request,
            f"Proposition envoyée à {offre.mentor} et à {offre.mentore} : ils l'acceptent ou "
            "la déclinent depuis leur espace.",
        )
        return self._back(offre)

    def skip_view(self, request, pk):
        offre = self._offre(request, pk)
        form = OffreSkipForm(request.POST)
        if not form.is_valid():
            for message in form.errors.get("motif", []):
                messages.error(request, f"Offre non passée : {message}")
            return self._back(offre)
        try:
            offre, suivante = services.skip_offer(
                offre, by=request.user, motif=form.cleaned_data["motif"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return self._back(offre)
        self.log_change(request, offre, "Offre passée.")
        if suivante is None:
            messages.info(
                request,
                f"Offre passée. Aucun autre mentoré de la file ne convient à {offre.mentor}.",
            )
            return self._back(offre)
        messages.success(
            request,
            f"Offre passée. Voici le mentoré suivant pour {offre.mentor} : {suivante.mentore}.",
        )
        return self._back(suivante)


# --- Campaigns -------------------------------------------------------------------------


@admin.register(Campagne)
class CampagneAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """The add form creates a campaign; its change page is the review page, whose
    actions (compute, remove, swap, confirm) post to the URLs of ``get_urls``."""

    list_display = [
        "nom",
        "statut",
        "perimetre",
        "date_debut",
        "nb_propositions",
        "creee_par",
        "creee_le",
    ]
    list_select_related = ["creee_par"]
    list_filter = ["statut"]
    search_fields = ["nom"]
    fields = ["nom", "structures", "date_debut", "duree_mois"]
    autocomplete_fields = ["structures"]
    list_per_page = 50
    export_fields = [
        ("Campagne", "nom"),
        ("Statut", "get_statut_display"),
        ("Périmètre", "perimetre"),
        ("Début des mentorats", "date_debut"),
        ("Durée des mentorats (mois)", "duree_mois"),
        ("Mentorés en attente", "nb_mentores"),
        ("Mentors disponibles", "nb_mentors"),
        ("Propositions", "nb"),
        ("Score total optimal", "score_optimal"),
        ("Créée par", "creee_par"),
        ("Créée le", "creee_le"),
        ("Confirmée par", "confirmee_par"),
        ("Confirmée le", "confirmee_le"),
    ]

    def get_queryset(self, request):
        # Not the mixin's filter (one structure inside would do): all must be inside.
        queryset = super(PerimeterAdminMixin, self).get_queryset(request)
        return (
            queryset.visible_to(request.user)
            .select_related("creee_par", "confirmee_par")
            .prefetch_related("structures")
            .annotate(nb=Count("propositions"))
        )

    @admin.display(description="périmètre")
    def perimetre(self, obj):
        return ", ".join(s.sigle or s.nom for s in obj.structures.all())

    @admin.display(description="propositions", ordering="nb")
    def nb_propositions(self, obj):
        return obj.nb

    def save_model(self, request, obj, form, change):
        if not change:
            obj.creee_par = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request,
            f"La campagne « {obj} » est créée : calculez ses propositions, relisez-les, "
            "puis confirmez pour les envoyer.",
        )
        return redirect("admin:mentorat_campagne_change", obj.pk)

    # --- Review page -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campagne = self.get_object(request, unquote(object_id))  # 404 outside
        if not self.has_view_or_change_permission(request, campagne):
            raise PermissionDenied
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        confirmed = campagne.statut == Campagne.Statut.CONFIRMEE
        editable = not confirmed and self.has_change_permission(request, campagne)
        propositions = list(
            campagne.propositions.select_related(
                "mentore__cadre__structure", "mentor__structure", "modifiee_par"
            )
        )
        swap = SwapForm(user=request.user)
        rows = [
            {
                "proposition": p,
                "swap": SwapForm(user=request.user, auto_id=f"id_%s_{p.pk}") if editable else None,
            }
            for p in propositions
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Campagne d'appariement : {campagne}",
            "campagne": campagne,
            "confirmed": confirmed,
            "editable": editable,
            "rows": [] if confirmed else rows,
            "total": sum(p.score for p in propositions),
            "non_apparies": list(campagne.non_apparies.select_related("mentore__cadre__structure")),
            "relations": (
                list(campagne.mentorats.select_related("mentor", "mentore").order_by("pk"))
                if confirmed
                else []
            ),
            "media": self.media + swap.media,
        }
        return TemplateResponse(request, "admin/mentorat/campagne/review.html", context)

    def get_urls(self):
        def view(method):
            return self.admin_site.admin_view(require_POST(method))

        return [
            path(
                "<int:pk>/calculer/",
                view(self.compute_view),
                name="mentorat_campagne_compute",
            ),
            path(
                "<int:pk>/confirmer/",
                view(self.confirm_view),
                name="mentorat_campagne_confirm",
            ),
            path(
                "<int:pk>/propositions/<int:proposition_pk>/retirer/",
                view(self.remove_view),
                name="mentorat_campagne_remove",
            ),
            path(
                "<int:pk>/propositions/<int:proposition_pk>/changer/",
                view(self.swap_view),
                name="mentorat_campagne_swap",
            ),
            *super().get_urls(),
        ]

    def _campagne(self, request, pk):
        campagne = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_change_permission(request, campagne):
            raise PermissionDenied
        return campagne

    def _done(self, request, campagne, error=None, success="", log=""):
        if error is not None:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, success)
            self.log_change(request, campagne, log or success)
        return redirect("admin:mentorat_campagne_change", campagne.pk)

    def compute_view(self, request, pk):
        campagne = self._campagne(request, pk)
        try:
            result = services.compute(campagne, by=request.user)
        except ValidationError as error:
            return self._done(request, campagne, error)
        return self._done(
            request,
            campagne,
            success=f"Propositions calculées : {len(result.proposals)} binôme(s) proposé(s), "
            f"{len(result.unmatched)} mentoré(s) sans mentor. Relisez-les : rien n'est "
            "envoyé avant la confirmation.",
            log="Propositions calculées.",
        )

    def remove_view(self, request, pk, proposition_pk):
        campagne = self._campagne(request, pk)
        proposition = get_object_or_404(
            campagne.propositions.select_related("mentor", "mentore__cadre"), pk=proposition_pk
        )
        try:
            services.remove_proposal(proposition, by=request.user)
        except ValidationError as error:
            return self._done(request, campagne, error)
        return self._done(
            request,
            campagne,
            success=f"Proposition retirée : {proposition.mentore} reste en liste d'attente.",
        )

    def swap_view(self, request, pk, proposition_pk):
        campagne = self._campagne(request, pk)
        proposition = get_object_or_404(
            campagne.propositions.select_related("mentore__cadre"), pk=proposition_pk
        )
        form = SwapForm(request.POST, user=request.user)
        if not form.is_valid():
            return self._done(request, campagne, ValidationError(form.errors["mentor"]))
        try:
            proposition = services.swap_proposal(
                proposition, form.cleaned_data["mentor"], by=request.user
            )
        except ValidationError as error:
            return self._done(request, campagne, error)
        return self._done(
            request,
            campagne,
            success=f"{proposition.mentor} est désormais proposé(e) à {proposition.mentore} "
            f"(score {proposition.score}).",
        )

    def confirm_view(self, request, pk):
        campagne = self._campagne(request, pk)
        try:
            campagne = services.confirm(campagne, by=request.user)
        except ValidationError as error:
            return self._done(request, campagne, error)
        count = campagne.mentorats.count()
        return self._done(
            request,
            campagne,
            success=f"Campagne confirmée : {count} proposition(s) envoyée(s) aux mentors et "
            "aux mentorés.",
        )


# --- Relations -------------------------------------------------------------------------


class SilenceFilter(admin.SimpleListFilter):
    title = f"rencontres depuis {SILENCE_WEEKS} semaines"
    parameter_name = "silence"

    def lookups(self, request, model_admin):
        return [
            ("oui", f"Sans rencontre depuis {SILENCE_WEEKS} semaines"),
            ("non", "Avec une rencontre récente"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(silencieux=True)
        if self.value() == "non":
            return queryset.filter(silencieux=False)
        return queryset


class PointEtapeFilter(admin.SimpleListFilter):
    title = "points d'étape"
    parameter_name = "point_etape"

    def lookups(self, request, model_admin):
        return [
            ("alerte", "À suivre (note de 2 ou moins, ou sans réponse après 14 jours)"),
            ("ok", "Sans signal"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "alerte":
            return queryset.filter(alerte_point_etape=True)
        if self.value() == "ok":
            return queryset.filter(alerte_point_etape=False)
        return queryset


class MentoratResource(resources.ModelResource):
    """The relations as exported: who, when, how many meetings; never their content."""

    mentore = fields.Field(attribute="mentore", column_name="mentoré")
    email = fields.Field(attribute="mentore__email", column_name="courriel du mentoré")
    structure = fields.Field(attribute="mentore__structure__nom", column_name="structure")
    mentor = fields.Field(attribute="mentor", column_name="mentor")
    contexte = fields.Field(attribute="get_contexte_display", column_name="contexte")
    statut = fields.Field(attribute="get_statut_display", column_name="statut")
    tenues = fields.Field(attribute="tenues", column_name="rencontres tenues")
    derniere_rencontre = fields.Field(
        attribute="derniere_rencontre", column_name="dernière rencontre"
    )
    silencieux = fields.Field(
        attribute="silencieux", column_name=f"sans rencontre depuis {SILENCE_WEEKS} semaines"
    )
    alerte_point_etape = fields.Field(
        attribute="alerte_point_etape", column_name="point d'étape à suivre"
    )

    class Meta:
        model = Mentorat
        fields = [
            "id",
            "mentore",
            "email",
            "structure",
            "mentor",
            "contexte",
            "statut",
            "date_debut",
            "date_fin_prevue",
            "date_fin",
            "tenues",
            "derniere_rencontre",
            "silencieux",
            "alerte_point_etape",
        ]
        export_order = fields


class RencontreInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Dates and attendance only: what is said in a meeting is not HR's business."""

    model = Rencontre
    fields = readonly_fields = ["debut", "duree", "mode", "statut"]
    extra = 0
    can_delete = False
    verbose_name_plural = "rencontres (dates et présence)"


@admin.register(Mentorat)
class MentoratAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """Relations are born from a confirmed campaign (no add form here); the délégué
    follows them and starts, ends or interrupts them through the services."""

    perimeter_field = "mentore__structure"
    form = MentoratAdminForm
    export_resource_class = MentoratResource
    view_on_site = False  # the portal page belongs to the mentor and the mentee
    inlines = [RencontreInline]
    list_display = [
        "mentore",
        "mentor",
        "statut",
        "date_debut",
        "date_fin_prevue",
        "date_fin",
        "tenues_col",
        "derniere_col",
        "silencieux_col",
        "alerte_col",
    ]
    list_select_related = ["mentore__structure", "mentor", "campagne"]
    list_filter = ["statut", SilenceFilter, PointEtapeFilter, "contexte"]
    search_fields = [
        "mentore__nom",
        "mentore__prenom",
        "mentore__email",
        "mentor__nom",
        "mentor__prenom",
    ]
    ordering = ["-cree_le"]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            "Binôme",
            {"fields": ["mentore", "mentor", "campagne", "contexte", "objectifs", "criteres_col"]},
        ),
        ("Charte", {"fields": ["charte_mentor_le", "charte_mentore_le"]}),
        (
            "Déroulement",
            {
                "fields": [
                    ("date_debut", "date_fin_prevue", "date_fin"),
                    "statut",
                    "motif_fin",
                    "decline_par",
                    "cree_le",
                ]
            },
        ),
        ("Points d'étape", {"fields": ["alerte_col", "points_etape_col"]}),
    ]
    readonly_fields = [
        "alerte_col",
        "points_etape_col",
        "mentore",
        "mentor",
        "campagne",
        "criteres_col",
        "charte_mentor_le",
        "charte_mentore_le",
        "date_fin",
        "decline_par",
        "cree_le",
    ]

    def get_queryset(self, request):
        # Correlated subqueries rather than JOIN + GROUP BY: the database reads the
        # page's rows in the order of the index on ``cree_le`` and looks the meetings up
        # for those rows only (index on mentorat, statut, debut).
        silent = services.silent_relations().filter(pk=OuterRef("pk"))
        held = Rencontre.objects.filter(
            mentorat=OuterRef("pk"), statut=Session.Statut.REALISEE
        ).order_by()
        count = held.values("mentorat").annotate(n=Count("pk")).values("n")
        return (
            super()
            .get_queryset(request)
            .select_related("mentore__structure", "mentor", "campagne")
            .annotate(
                tenues=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
                derniere_rencontre=Subquery(held.order_by("-debut").values("debut")[:1]),
                silencieux=Exists(silent),
            )
            .with_health_alert()
        )

    def has_add_permission(self, request):
        return False

    @admin.display(description="rencontres tenues", ordering="tenues")
    def tenues_col(self, obj):
        return obj.tenues

    @admin.display(description="dernière rencontre", ordering="derniere_rencontre")
    def derniere_col(self, obj):
        if not obj.derniere_rencontre:
            return "—"
        return _date(timezone.localtime(obj.derniere_rencontre))

    @admin.display(
        description=f"sans rencontre depuis {SILENCE_WEEKS} semaines",
        boolean=True,
        ordering="silencieux",
    )
    def silencieux_col(self, obj):
        return obj.silencieux

    @admin.display(
        description="point d'étape à suivre", boolean=True, ordering="alerte_point_etape"
    )
    def alerte_col(self, obj):
        return obj.alerte_point_etape

    @admin.display(description="réponses aux points d'étape")
    def points_etape_col(self, obj):
        """Both sides' answers: a signal for the délégué, never shown to the other side."""
        points = list(obj.points_etape.order_by("numero", "cote"))
        if not points:
            return (
                f"Aucun point d'étape envoyé : le premier part {PointEtape.FIRST} jours après "
                f"le début, puis tous les {PointEtape.EVERY} jours."
            )
        now = timezone.now()
        rows = []
        for p in points:
            if p.repondu_le:
                low = min(p.utilite, p.rythme) <= PointEtape.LOW
                answer = format_html(
                    "{}utilité {} / 5, rencontres comme prévu {} / 5{}",
                    "⚠ " if low else "",
                    p.utilite,
                    p.rythme,
                    f" – « {p.commentaire} »" if p.commentaire else "",
                )
                when = _date(timezone.localtime(p.repondu_le))
            else:
                late = p.envoye_le <= now - PointEtape.ANSWER_DELAY
                answer = "⚠ sans réponse après 14 jours" if late else "en attente de réponse"
                when = "—"
            rows.append((p.numero, _date(p.echeance), p.get_cote_display(), answer, when))
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        )
        return format_html(
            '<table class="points-etape"><thead><tr><th scope="col">N°</th>'
            '<th scope="col">Échéance</th><th scope="col">Côté</th><th scope="col">Réponse</th>'
            '<th scope="col">Répondu le</th></tr></thead><tbody>{}</tbody></table>',
            body,
        )

    @admin.display(description="critères d'appariement")
    def criteres_col(self, obj):
        if not obj.criteres:
            return "—"
        items = format_html_join(
            "",
            "<li>{} : {} pt(s){}</li>",
            (
                (c["libelle"], c["points"], f" ({c['detail']})" if c.get("detail") else "")
                for c in obj.criteres
            ),
        )
        return format_html("<p>Score {}</p><ul>{}</ul>", obj.score, items)

    def save_model(self, request, obj, form, change):
        """The edited fields are saved as they are; the status goes through
        ``services.change_status`` (checked by the form, applied here)."""
        statut = obj.statut
        stored_statut, stored_motif = Mentorat.objects.values_list("statut", "motif_fin").get(
            pk=obj.pk
        )
        if statut == stored_statut:
            obj.save()
            return
        obj.statut, obj.motif_fin = stored_statut, stored_motif
        try:
            with transaction.atomic():  # a savepoint: on refusal, nothing is kept
                obj.save()
                services.change_status(
                    obj, statut, by=request.user, motif=form.cleaned_data.get("motif_fin") or ""
                )
        except ValidationError as error:
            # The relation moved meanwhile (the other side answered, say).
            messages.error(request, " ".join(error.messages))
        else:
            if statut == Mentorat.Statut.TERMINE:
                messages.info(
                    request, "Mentorat terminé : l'évaluation de fin de parcours est demandée."
                )
            elif statut == Mentorat.Statut.INTERROMPU:
                messages.info(
                    request, "Mentorat interrompu : les rencontres planifiées sont annulées."
                )
        obj.refresh_from_db()
