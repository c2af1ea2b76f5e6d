"""Co-development in the admin: the groups of the délégué's perimeter, their members,
the séances held against those planned, attendance rates and an export of the counts.

What is said in a group stays in the group: no admin page shows a séance's problem
statement, contract or rating, and the action plans and learnings have no admin page
at all (``PlanAction``, ``Apprentissage`` and the four-A answers ``EvaluationSeance`` /
``EvaluationRendue`` are not registered, on purpose), for délégués and national
administrators alike. HR sees attendance and counts (of answers too, never scores).

Members are added through ``codev.services.add_member`` (the group's row is locked
while members are counted) and leave through ``services.remove_member`` (their future
turns as client go to someone else), as in the facilitator space.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.utils import timezone
from import_export import fields, resources

from accompagnement.services.sessions import sync_session_notifications
from cadres.admin_filters import StructureSubtreeFilter
from cadres.admin_mixins import ReadOnlyAdminMixin
from cadres.exports import StreamingExportMixin
from cadres.models import Cadre, Role, User
from cadres.perimeter import PerimeterAdminMixin, filter_for_user

from . import services
from .forms import GroupSettingsMixin
from .models import MAX_MEMBRES, EvaluationRendue, Groupe, Membre, Presence, Seance

# Séances that are, or were, on the calendar: a cancelled or postponed one is not.
PLANNED = (Seance.Statut.PLANIFIEE, Seance.Statut.REALISEE)

CONFIDENTIALITY = (
    "Ce qui se dit dans un groupe reste dans le groupe : l'administration voit la "
    "présence et les comptes, jamais les situations exposées, les contrats, les plans "
    "d'action, les apprentissages ni les réponses aux évaluations des séances."
)


def _count(queryset, outer):
    """A correlated COUNT of ``queryset`` rows whose ``outer`` is the group (0 if none):
    one subquery per figure, so that the list's rows do not multiply."""
    counted = (
        queryset.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_figures(queryset):
    """Groups with their counts: active members, séances held and planned, presences
    recorded and present, and the attendance rate (None when no attendance is taken)."""
    return queryset.annotate(
        membres_actifs=_count(Membre.objects.filter(date_sortie__isnull=True), "groupe"),
        seances_realisees=_count(Seance.objects.filter(statut=Seance.Statut.REALISEE), "groupe"),
        seances_prevues=_count(Seance.objects.filter(statut__in=PLANNED), "groupe"),
        presences_notees=_count(Presence.objects.all(), "seance__groupe"),
        presents=_count(Presence.objects.filter(present=True), "seance__groupe"),
    ).annotate(
        taux_presence=ExpressionWrapper(
            F("presents") * 100.0 / NullIf(F("presences_notees"), 0), output_field=FloatField()
        )
    )


def format_rate(groupe):
    rate = getattr(groupe, "taux_presence", None)
    return "—" if rate is None else f"{rate:.0f} %"


def animateurs(current=None):
    """Users holding the animateur role (and the group's current animateur, so that an
    existing group stays valid if its animateur lost the role)."""
    condition = Q(pk__in=Role.objects.filter(kind=Role.Kind.ANIMATEUR).values("user_id"))
    if current is not None:
        condition |= Q(pk=current)
    return User.objects.filter(condition).order_by("last_name", "first_name", "email")


# --- Members ---------------------------------------------------------------------


class MembersRefused(Exception):
    """A member could not be added or removed by the services: nothing is saved."""


class MembreForm(forms.ModelForm):
    class Meta:
        model = Membre
        fields = ["cadre", "date_entree", "date_sortie"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("cadre")
        if field is not None and self.instance.pk:
            # A membership is not moved to another person: they leave (exit date) and
            # the other one is added. Their row stays valid even if the cadre moved
            # out of the délégué's perimeter.
            field.disabled = True
            field.queryset = field.queryset | Cadre.objects.filter(pk=self.instance.cadre_id)

    def clean(self):
        data = super().clean()
        entree, sortie = data.get("date_entree"), data.get("date_sortie")
        if entree and sortie and sortie < entree:
            self.add_error("date_sortie", "La date de sortie doit suivre la date d'entrée.")
        cadre = data.get("cadre")
        if cadre is not None and not self.instance.pk and not cadre.actif:
            self.add_error("cadre", f"{cadre} n'est plus en activité.")
        return data


class MembreFormSet(BaseInlineFormSet):
    def clean(self):
        """At most 8 active members once the change is made. In the admin's change view
        the group's row is locked here until the end of the request's transaction, so
        that the count still holds when the members are saved."""
        super().clean()
        if any(self.errors):
            return
        groupe, active, listed = self.instance, 0, []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or (self.can_delete and self._should_delete_form(form)):
                continue
            if form.instance.pk:
                listed.append(form.instance.pk)
            if data.get("date_sortie") is None:
                active += 1
        if groupe.pk:
            if transaction.get_connection().in_atomic_block:
                list(Groupe.objects.select_for_update().filter(pk=groupe.pk).values("pk"))
            active += (
                Membre.objects.filter(groupe_id=groupe.pk).actifs().exclude(pk__in=listed).count()
            )
        if active > MAX_MEMBRES:
            raise ValidationError(
                f"Un groupe de codéveloppement réunit au plus {MAX_MEMBRES} membres, "
                f"l'animateur en plus : avec cette modification, il en compterait {active}. "
                "Indiquez la date de sortie d'un membre avant d'en ajouter un autre."
            )


class MembreInline(admin.TabularInline):
    model = Membre
    form = MembreForm
    formset = MembreFormSet
    fields = ["cadre", "date_entree", "date_sortie"]
    autocomplete_fields = ["cadre"]  # CadreAdmin's search, inside the perimeter
    extra = 1
    can_delete = False  # a member leaves (exit date): their attendance stays on record
    verbose_name_plural = f"membres ({MAX_MEMBRES} au plus, l'animateur en plus)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cadre")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cadre":
            kwargs["queryset"] = filter_for_user(Cadre.objects.all(), request.user, "structure")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "date_entree" and field is not None:
            field.initial = timezone.localdate
        return field


# --- Séances: dates and attendance only ---------------------------------------------


class SeanceInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Numbers, dates, status, client and attendance. Never the content: the problem
    statement, the contract, the kind of consultation and the rating are not here."""

    model = Seance
    fields = readonly_fields = ["numero", "debut", "statut", "client", "presents", "evaluations"]
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "séances (dates et présence)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("client__cadre")
            .annotate(
                nb_presents=Count("presences", filter=Q(presences__present=True)),
                nb_presences=Count("presences"),
                # A count only: the answers themselves are for the animateur's aggregates.
                nb_evaluations=_count(EvaluationRendue.objects.all(), "seance"),
            )
            .order_by("numero")
        )

    @admin.display(description="présents")
    def presents(self, obj):
        if not getattr(obj, "nb_presences", 0):
            return "—"
        return f"{obj.nb_presents} / {obj.nb_presences}"

    @admin.display(description="évaluations (4 A) reçues")
    def evaluations(self, obj):
        return getattr(obj, "nb_evaluations", 0)


# --- Groups ----------------------------------------------------------------------


class CycleFilter(admin.SimpleListFilter):
    title = "cycle"
    parameter_name = "cycle"

    def lookups(self, request, model_admin):
        return [("a_venir", "À venir"), ("en_cours", "En cours"), ("termine", "Terminé")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "a_venir":
            return queryset.filter(date_debut__gt=today)
        if self.value() == "en_cours":
            return queryset.filter(date_debut__lte=today, date_fin__gte=today)
        if self.value() == "termine":
            return queryset.filter(date_fin__lt=today)
        return queryset


class GroupeResource(resources.ModelResource):
    """The groups as exported: who, where, and counts. No content, ever."""

    groupe = fields.Field(attribute="nom", column_name="groupe")
    structure = fields.Field(attribute="structure", column_name="structure")
    animateur = fields.Field(attribute="animateur", column_name="animateur")
    mode = fields.Field(attribute="get_mode_display", column_name="modalité")
    date_debut = fields.Field(attribute="date_debut", column_name="début du cycle")
    date_fin = fields.Field(attribute="date_fin", column_name="fin du cycle")
    membres = fields.Field(attribute="membres_actifs", column_name="membres")
    seances_prevues = fields.Field(attribute="seances_prevues", column_name="séances prévues")
    seances_realisees = fields.Field(attribute="seances_realisees", column_name="séances réalisées")
    taux_presence = fields.Field(column_name="taux de présence")

    class Meta:
        model = Groupe
        fields = [
            "groupe",
            "structure",
            "animateur",
            "mode",
            "date_debut",
            "date_fin",
            "membres",
            "seances_prevues",
            "seances_realisees",
            "taux_presence",
        ]
        export_order = fields

    def dehydrate_taux_presence(self, groupe):
        return format_rate(groupe)


class GroupeAdminForm(GroupSettingsMixin, forms.ModelForm):
    """Timings of the steps and the confirmation of an unusual cycle, as in the
    facilitator space (same mixin, same model rules)."""

    class Meta:
        model = Groupe
        # The admin narrows these to its fieldsets.
        fields = [
            "nom",
            "theme",
            "structure",
            "animateur",
            "animation",
            "prestataire",
            "montant_devis",
            "bon_de_commande",
            "mode",
            "lieu",
            "lien_visio",
            "date_debut",
            "date_fin",
            "rythme_semaines",
            "nb_seances_cible",
            "heure",
            "duree",
        ]


@admin.register(Groupe)
class GroupeAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = "structure"
    form = GroupeAdminForm
    export_resource_class = GroupeResource
    view_on_site = False  # the group's page belongs to its animateur and members
    inlines = [MembreInline, SeanceInline]
    list_display = [
        "nom",
        "structure",
        "animateur",
        "membres",
        "seances",
        "taux",
        "date_debut",
        "date_fin",
    ]
    list_select_related = ["structure", "animateur"]
    list_filter = [
        "mode",
        "animation",
        StructureSubtreeFilter,
        CycleFilter,
    ]
    search_fields = ["nom", "theme", "animateur__email"]
    autocomplete_fields = ["structure"]
    date_hierarchy = "date_debut"
    list_per_page = 50
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["suivi_seances", "suivi_presence", "cree_le"]
    fieldsets = [
        ("Groupe", {"fields": ["nom", "theme", "structure", "animateur"]}),
        (
            "Animation",
            {
                "fields": ["animation", "prestataire", ("montant_devis", "bon_de_commande")],
                "description": "Une animation externe se fait sur devis : son coût figure dans "
                "les dépenses externes (coaching et codéveloppement).",
            },
        ),
        ("Modalités", {"fields": ["mode", "lieu", "lien_visio"]}),
        (
            "Cycle",
            {
                "fields": [
                    ("date_debut", "date_fin"),
                    "rythme_semaines",
                    "confirmer_cycle",
                    "nb_seances_cible",
                    ("heure", "duree"),
                ]
            },
        ),
        (
            "Déroulé d'une séance",
            {
                "fields": GroupSettingsMixin.PHASE_FIELDS,
                "description": "Durée de chaque étape, en minutes : leur somme est la durée "
                "d'une séance (2 heures d'habitude).",
            },
        ),
        (
            "Suivi",
            {
                "fields": ["suivi_seances", "suivi_presence", "cree_le"],
                "description": CONFIDENTIALITY,
            },
        ),
    ]

    def get_queryset(self, request):
        return with_figures(super().get_queryset(request))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("animateur")
        if field is not None:
            field.queryset = animateurs(current=obj.animateur_id if obj is not None else None)
            field.help_text = "Une personne qui a le rôle d'animateur de codéveloppement."
        return form

    # --- Figures -----------------------------------------------------------------

    @admin.display(description="membres actifs", ordering="membres_actifs")
    def membres(self, obj):
        return obj.membres_actifs

    @admin.display(description="séances réalisées / prévues", ordering="seances_realisees")
    def seances(self, obj):
        return f"{obj.seances_realisees} / {obj.seances_prevues}"

    @admin.display(description="taux de présence", ordering="taux_presence")
    def taux(self, obj):
        return format_rate(obj)

    @admin.display(description="séances réalisées / prévues")
    def suivi_seances(self, obj):
        if obj is None or obj.pk is None or not hasattr(obj, "seances_prevues"):
            return "—"
        if not obj.seances_prevues:
            return f"Cycle non planifié ({obj.nb_seances_cible} séances visées)."
        return f"{obj.seances_realisees} / {obj.seances_prevues}"

    @admin.display(description="taux de présence")
    def suivi_presence(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        if not getattr(obj, "presences_notees", 0):
            return "— (aucune présence relevée)"
        return f"{format_rate(obj)} ({obj.presents} présences sur {obj.presences_notees} relevées)"

    # --- Saving --------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MembersRefused as refused:
            # Raised inside the view's transaction: the group and its members are
            # rolled back together; the délégué reads why and starts again.
            messages.error(request, f"Rien n'a été enregistré : {refused}")
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "animateur" in form.changed_data:
            _sync_future_reminders(obj)
        if change and "duree" in form.changed_data:
            services.follow_group_duration(obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membre:
            return super().save_formset(request, form, formset, change)
        groupe = form.instance
        formset.save(commit=False)
        departures, returns, edits = [], [], []
        for membre, changed in formset.changed_objects:
            stored = Membre.objects.values("date_sortie").get(pk=membre.pk)
            if "date_sortie" in changed and stored["date_sortie"] is None:
                departures.append((membre, changed))
            elif "date_sortie" in changed and membre.date_sortie is None:
                returns.append((membre, changed))
            else:
                edits.append((membre, changed))
        try:
            for membre, changed in edits:
                membre.save(update_fields=changed)
            # Departures before arrivals: they make room for the newcomers.
            for membre, changed in departures:
                if "date_entree" in changed:
                    membre.save(update_fields=["date_entree"])
                services.remove_member(membre, on=membre.date_sortie)
            for membre, changed in returns:
                # Back after leaving: counted again against the limit, under the lock.
                on = membre.date_entree if "date_entree" in changed else None
                services.add_member(groupe, membre.cadre, on=on)
            for membre in formset.new_objects:
                added = services.add_member(groupe, membre.cadre, on=membre.date_entree)
                if membre.date_sortie:
                    services.remove_member(added, on=membre.date_sortie)
                membre.pk = added.pk
        except ValidationError as error:
            raise MembersRefused(" ".join(error.messages)) from error
        if edits:
            # New entry or exit dates: the séances to come remind the right people.
            # (Arrivals and departures are synced by the services themselves.)
            _sync_future_reminders(groupe)


def _sync_future_reminders(groupe):
    """Reminders of the séances to come follow the animateur and the members."""
    for seance in groupe.seances.filter(
        statut=Seance.Statut.PLANIFIEE, debut__gt=timezone.now()
    ).select_related("groupe__animateur"):
        sync_session_notifications(seance)
