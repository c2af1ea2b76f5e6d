from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

from cadres.admin_mixins import ReadOnlyAdminMixin
from cadres.exports import StreamingExportMixin
from cadres.models import Role
from cadres.perimeter import PerimeterAdminMixin, filter_for_user, is_national_admin

from .models import Demande, Evaluation, Notification
from .services import demandes as demande_services
from .services.evaluations import MIN_ANSWERS, aggregates


class OverdueFilter(admin.SimpleListFilter):
    title = "échéance"
    parameter_name = "echeance"

    def lookups(self, request, model_admin):
        return [("depassee", "Délai d'un mois dépassé"), ("proche", "Échéance sous 7 jours")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "depassee":
            return queryset.overdue(today)
        if self.value() == "proche":
            return queryset.open().filter(
                echeance__gte=today, echeance__lte=today + demande_services.NEAR_DEADLINE
            )
        return queryset


class DemandeAdminForm(forms.ModelForm):
    class Meta:
        model = Demande
        fields = [
            "cadre",
            "dispositif",
            "contexte",
            "origine",
            "motivation",
            "date_debut_souhaitee",
            "date_fin_souhaitee",
            "recue_le",
            "delegue",
            "statut",
            "motif_decision",
        ]

    def clean(self):
        data = super().clean()
        if "statut" in data:
            # A new request starts "soumise"; a decision applies to the scheme as edited.
            if self.instance.pk:
                current = Demande.objects.get(pk=self.instance.pk)
            else:
                current = Demande(statut=Demande.Statut.SOUMISE)
            current.dispositif = data.get("dispositif") or current.dispositif
            try:
                demande_services.check_decision(
                    current, data["statut"], data.get("motif_decision", "")
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Demande)
class DemandeAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """The délégué's queue: filters by scheme, status and deadline; decisions go
    through the workflow service (allowed transitions, reason, programme creation)."""

    perimeter_field = "cadre__structure"
    form = DemandeAdminForm
    list_display = [
        "cadre",
        "dispositif",
        "contexte",
        "statut_badge",
        "recue_le",
        "echeance_badge",
        "delegue",
    ]
    list_filter = ["dispositif", "statut", OverdueFilter, "origine", "contexte"]
    list_select_related = ["cadre", "delegue"]
    search_fields = ["cadre__nom", "cadre__prenom", "cadre__email", "motivation"]
    autocomplete_fields = ["cadre"]
    date_hierarchy = "recue_le"
    readonly_fields = ["echeance", "decidee_par", "decidee_le", "cree_par", "programme_link"]
    list_per_page = 50
    show_full_result_count = False
    # The request as listed, with its decision; not the cadre's motivation letter.
    export_select_related = ["cadre__structure", "decidee_par"]
    export_fields = [
        ("Identifiant", "pk"),
        ("Cadre", "cadre"),
        ("Courriel du cadre", "cadre__email"),
        ("Structure", "cadre__structure__nom"),
        ("Dispositif", "get_dispositif_display"),
        ("Contexte", "get_contexte_display"),
        ("Origine", "get_origine_display"),
        ("Statut", "get_statut_display"),
        ("Reçue le", "recue_le"),
        ("Décision attendue avant le", "echeance"),
        ("En retard", "is_overdue"),
        ("Délégué en charge", "delegue"),
        ("Début souhaité", "date_debut_souhaitee"),
        ("Fin souhaitée", "date_fin_souhaitee"),
        ("Décidée le", "decidee_le"),
        ("Décidée par", "decidee_par"),
        ("Motif de la décision", "motif_decision"),
    ]
    fieldsets = [
        (
            "Demande",
            {
                "fields": [
                    "cadre",
                    "dispositif",
                    "contexte",
                    "origine",
                    "motivation",
                    ("date_debut_souhaitee", "date_fin_souhaitee"),
                    "recue_le",
                    "echeance",
                    "delegue",
                ]
            },
        ),
        (
            "Décision",
            {"fields": ["statut", "motif_decision", "decidee_par", "decidee_le", "programme_link"]},
        ),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "delegue":
            # Délégués working inside the user's perimeter (all of them for a national
            # administrator): nobody picks a colleague of another ministry.
            delegues = db_field.related_model.objects.filter(
                roles__kind=Role.Kind.DELEGUE, is_active=True
            )
            kwargs["queryset"] = (
                filter_for_user(delegues, request.user, "roles__structures")
                .distinct()
                .order_by("last_name", "email")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"origine": Demande.Origine.ADMINISTRATION, "delegue": request.user.pk}

    @admin.display(description="statut", ordering="statut")
    def statut_badge(self, obj):
        colour = {
            Demande.Statut.ACCEPTEE: "success",
            Demande.Statut.REFUSEE: "error",
            Demande.Statut.REPORTEE: "warning",
        }.get(obj.statut, "info")
        return format_html(
            '<span class="fr-badge fr-badge--sm fr-badge--{}">{}</span>',
            colour,
            obj.get_statut_display(),
        )

    @admin.display(description="décision avant le", ordering="echeance")
    def echeance_badge(self, obj):
        if obj.is_overdue:
            return format_html(
                '<strong style="color:#ce0500">⚠ {} – en retard</strong>',
                obj.echeance.strftime("%d/%m/%Y"),
            )
        return obj.echeance.strftime("%d/%m/%Y")

    @admin.display(description="programme créé")
    def programme_link(self, obj):
        return str(obj.programme) if obj.programme_id else "—"

    def save_model(self, request, obj, form, change):
        if not change:
            data = {
                f: form.cleaned_data.get(f) for f in ("date_debut_souhaitee", "date_fin_souhaitee")
            }
            created = demande_services.submit(
                obj.cadre,
                dispositif=obj.dispositif,
                contexte=obj.contexte,
                motivation=obj.motivation,
                origine=obj.origine,
                by=request.user,
                delegue=obj.delegue,
                recue_le=obj.recue_le,
                **data,
            )
            obj.pk = created.pk
            if obj.statut != Demande.Statut.SOUMISE:
                demande_services.decide(created, obj.statut, obj.motif_decision, by=request.user)
            return
        new_status, motif = obj.statut, obj.motif_decision
        # Everything but the decision is saved as edited; the decision goes through
        # the workflow so that it is dated, signed, mailed and creates the programme.
        obj.statut = Demande.objects.values_list("statut", flat=True).get(pk=obj.pk)
        obj.save()
        demande_services.after_save(obj)
        if new_status != obj.statut:
            demande_services.decide(obj, new_status, motif, by=request.user)
            messages.info(request, "La décision a été enregistrée et notifiée au cadre.")


@admin.register(Evaluation)
class EvaluationAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """Délégués see who answered and the figures in aggregate; the answers of a
    coaching evaluation stay confidential to everyone."""

    perimeter_field = "cadre__structure"
    list_display = ["cadre", "dispositif", "participant", "demandee_le", "remplie_le"]
    list_filter = ["dispositif", ("remplie_le", admin.EmptyFieldListFilter)]
    list_select_related = ["cadre", "participant"]
    search_fields = ["cadre__nom", "participant__email"]
    change_list_template = "admin/accompagnement/evaluation/change_list.html"
    list_per_page = 100
    show_full_result_count = False
    # Who was asked and who answered, as the list shows: never an answer (the
    # figures are published in aggregate only, above the list).
    export_select_related = ["cadre__structure"]
    export_fields = [
        ("Dispositif", "get_dispositif_display"),
        ("Cadre accompagné", "cadre"),
        ("Structure", "cadre__structure__nom"),
        ("Participant", "participant"),
        ("Demandée le", "demandee_le"),
        ("Remplie le", "remplie_le"),
    ]

    def get_fields(self, request, obj=None):
        fields = ["dispositif", "cadre", "participant", "demandee_le", "remplie_le"]
        if obj is not None and obj.dispositif != "coaching" and is_national_admin(request.user):
            fields += ["satisfaction", "objectifs_atteints", "commentaire"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "aggregates": aggregates(self.get_queryset(request)),
            "min_answers": MIN_ANSWERS,
        }
        return super().changelist_view(request, extra_context)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, for administrators: what left, what waits, what failed."""

    list_display = ["kind", "email", "due_at", "statut", "attempts", "sent_at"]
    list_filter = ["statut", "kind"]
    search_fields = ["email", "kind"]
    date_hierarchy = "due_at"
    show_full_result_count = False

    def has_module_permission(self, request):
        return is_national_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_national_admin(request.user)
