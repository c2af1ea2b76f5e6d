"""Coaching in the admin: the coach pool (shared by every délégué), the engagements
(inside the délégué's perimeter) and the budget of external coaching.

Assignments and status changes go through ``coaching.services``: the form checks
them (French errors on the fields) and ``save_model`` applies them. The coach's
private notes (``NoteCoach``) have no admin page, on purpose: nobody but their
author reads them, administrators included.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from import_export import fields, resources

from cadres.exports import StreamingExportMixin
from cadres.perimeter import PerimeterAdminMixin, is_national_admin

from . import budget, services
from .forms import ScheduleForm
from .models import Certification, Coach, Coaching, SeanceCoaching, Specialite

# A coach may be chosen or changed only before the coaching runs.
ASSIGNABLE = (Coaching.Statut.A_AFFECTER, Coaching.Statut.CONTRACTUALISE)


# --- Coach pool ----------------------------------------------------------------


@admin.register(Specialite)
class SpecialiteAdmin(StreamingExportMixin, admin.ModelAdmin):
    list_display = ["libelle", "code"]
    search_fields = ["libelle", "code"]
    export_fields = [("Spécialité", "libelle"), ("Code", "code")]


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    fields = ["organisme", "niveau", "obtenue_le", "expire_le"]


@admin.register(Coach)
class CoachAdmin(StreamingExportMixin, admin.ModelAdmin):
    """The coach pool is shared by every délégué: it is not limited to a perimeter."""

    list_display = ["nom_complet", "type", "organisme", "specialites_list", "charge", "actif"]
    list_filter = ["type", "actif", "specialites"]
    search_fields = ["nom", "prenom", "email", "organisme"]
    autocomplete_fields = ["structure", "user"]
    filter_horizontal = ["specialites"]
    inlines = [CertificationInline]
    list_per_page = 50
    show_full_result_count = False
    # The register as listed, with contacts and capacity; no account, no biography.
    export_select_related = ["structure"]
    export_fields = [
        ("Civilité", "get_civilite_display"),
        ("Nom", "nom"),
        ("Prénom", "prenom"),
        ("Adresse électronique", "email"),
        ("Téléphone", "telephone"),
        ("Type", "get_type_display"),
        ("Organisme prestataire", "organisme"),
        ("Structure d'affectation", "structure__nom"),
        ("Spécialités", "specialites"),
        ("Langues", "langues"),
        ("Tarif par séance (€ TTC)", "tarif_seance"),
        ("Capacité", "capacite"),
        ("Coachings en cours", "charge"),
        ("Actif", "actif"),
    ]
    fieldsets = [
        ("Identité", {"fields": ["type", "civilite", "nom", "prenom", "email", "telephone"]}),
        (
            "Rattachement",
            {"fields": ["structure", "organisme", "contact_organisme", "tarif_seance", "user"]},
        ),
        ("Profil", {"fields": ["specialites", "langues", "biographie"]}),
        ("Disponibilité", {"fields": ["capacite", "actif"]}),
    ]

    def get_queryset(self, request):
        # ``order_by``: an annotated (GROUP BY) queryset loses Meta.ordering, which
        # the coach picker's pagination needs.
        return (
            super()
            .get_queryset(request)
            .with_load()
            .prefetch_related("specialites")
            .order_by("nom", "prenom", "pk")
        )

    def get_readonly_fields(self, request, obj=None):
        # Linking a coach to an account is for national administrators: délégués do
        # not browse user accounts.
        if is_national_admin(request.user):
            return []
        return ["user"]

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # The coach picker of an engagement offers active coaches only.
        if request.GET.get("model_name") == "coaching" and request.GET.get("field_name"):
            queryset = queryset.filter(actif=True)
        return queryset, distinct

    @admin.display(description="nom", ordering="nom")
    def nom_complet(self, obj):
        return f"{obj.get_civilite_display()} {obj.prenom} {obj.nom.upper()}"

    @admin.display(description="spécialités")
    def specialites_list(self, obj):
        return ", ".join(s.libelle for s in obj.specialites.all()) or "—"

    @admin.display(description="charge / capacité", ordering="charge")
    def charge(self, obj):
        text = f"{obj.charge} / {obj.capacite}"
        if obj.charge >= obj.capacite:
            return format_html("<strong>{} (complet)</strong>", text)
        return text


# --- Engagements ---------------------------------------------------------------


class CoachTypeFilter(admin.SimpleListFilter):
    title = "type de coach"
    parameter_name = "type_coach"

    def lookups(self, request, model_admin):
        return Coach.Type.choices

    def queryset(self, request, queryset):
        if self.value() in Coach.Type.values:
            return queryset.filter(coach__type=self.value())
        return queryset


class CoachingAdminForm(forms.ModelForm):
    """Checks a new coach and a new status with the services' rules, so that a
    refused assignment or transition comes back on the form with its French message."""

    class Meta:
        model = Coaching
        fields = [
            "cadre",
            "origine",
            "motif",
            "objectifs",
            "reunion_tripartite_le",
            "nb_seances_prevues",
            "coach",
            "date_debut",
            "date_fin",
            "statut",
            "reunion_cloture_le",
            "montant_devis",
            "bon_de_commande",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            stored = Coaching.objects.select_related("cadre__structure", "coach").get(
                pk=self.instance.pk
            )
        else:
            stored = Coaching(statut=Coaching.Statut.A_AFFECTER)
            if not data.get("cadre"):
                return data  # the missing cadre is already reported
            stored.cadre = data["cadre"]
        # ``probe``: the engagement as it will be once the coach is assigned.
        probe = Coaching(
            pk=stored.pk,
            cadre=stored.cadre,
            coach=stored.coach,
            statut=stored.statut,
            reunion_cloture_le=data.get("reunion_cloture_le"),
        )
        try:
            if "coach" in self.fields and "coach" not in self.errors:
                coach = data.get("coach")
                if coach is not None and coach.pk != stored.coach_id:
                    services.check_assignment(probe, coach)
                    probe.coach, probe.statut = coach, Coaching.Statut.CONTRACTUALISE
                elif (
                    coach is None
                    and stored.coach_id
                    and stored.statut != Coaching.Statut.A_AFFECTER
                ):
                    raise ValidationError(
                        {
                            "coach": "Un coaching contractualisé garde son coach : choisissez-en "
                            "un autre ou interrompez le coaching."
                        }
                    )
            statut = data.get("statut")
            if statut and statut != stored.statut and statut != probe.statut:
                services.check_transition(probe, statut, data.get("reunion_cloture_le"))
        except ValidationError as error:
            self._add_service_errors(error)
        return data

    def _add_service_errors(self, error):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, errors in error.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class CoachingResource(resources.ModelResource):
    """The engagements list, as exported: dates, attendance and cost, no content."""

    cadre = fields.Field(attribute="cadre", column_name="cadre")
    cadre_email = fields.Field(attribute="cadre__email", column_name="courriel du cadre")
    structure = fields.Field(attribute="cadre__structure__nom", column_name="structure")
    coach = fields.Field(attribute="coach", column_name="coach")
    type_coach = fields.Field(attribute="coach__get_type_display", column_name="type de coach")
    origine = fields.Field(attribute="get_origine_display", column_name="origine")
    motif = fields.Field(attribute="get_motif_display", column_name="motif")
    statut = fields.Field(attribute="get_statut_display", column_name="statut")
    realisees = fields.Field(attribute="realisees", column_name="séances réalisées")

    class Meta:
        model = Coaching
        fields = [
            "id",
            "cadre",
            "cadre_email",
            "structure",
            "coach",
            "type_coach",
            "origine",
            "motif",
            "statut",
            "date_debut",
            "date_fin",
            "nb_seances_prevues",
            "realisees",
            "montant_devis",
            "bon_de_commande",
        ]
        export_order = fields


class SeanceCoachingInline(admin.TabularInline):
    """Dates and attendance only: what is said in a session is not HR's business."""

    model = SeanceCoaching
    fields = readonly_fields = ["numero", "debut", "duree", "mode", "statut"]
    extra = 0
    can_delete = False
    verbose_name_plural = "séances (dates et présence)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("coaching__cadre")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Coaching)
class CoachingAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = "cadre__structure"
    view_on_site = False  # the portal page belongs to the cadre and the coach
    export_resource_class = CoachingResource
    form = CoachingAdminForm
    change_list_template = "admin/coaching/coaching/change_list.html"  # + the budget link
    list_display = [
        "cadre",
        "coach",
        "motif",
        "statut",
        "seances",
        "date_debut",
        "origine",
    ]
    list_select_related = ["cadre", "coach"]
    list_filter = ["statut", "motif", "origine", CoachTypeFilter]
    search_fields = ["cadre__nom", "cadre__prenom", "cadre__email", "coach__nom", "coach__prenom"]
    autocomplete_fields = ["cadre", "coach"]
    date_hierarchy = "date_debut"
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            "Engagement",
            {
                "fields": [
                    "cadre",
                    "demande",
                    ("origine", "motif"),
                    "objectifs",
                    "reunion_tripartite_le",
                    "nb_seances_prevues",
                ]
            },
        ),
        ("Coach", {"fields": ["coach", "suggestions"]}),
        (
            "Déroulement",
            {
                "fields": [
                    ("date_debut", "date_fin"),
                    "statut",
                    "reunion_cloture_le",
                    "planifier",
                    "cree_le",
                ]
            },
        ),
        (
            "Coût (coach externe)",
            {"fields": ["montant_devis", "bon_de_commande"]},
        ),
    ]

    def perimeter_queryset(self, request):
        """The engagements of the user's perimeter, without the list's annotations."""
        return super().get_queryset(request)

    def get_queryset(self, request):
        # A correlated count rather than JOIN + GROUP BY: the database reads the page's
        # rows in the order of the index on ``cree_le`` and counts for those rows only.
        held = (
            SeanceCoaching.objects.filter(
                coaching=OuterRef("pk"), statut=SeanceCoaching.Statut.REALISEE
            )
            .order_by()
            .values("coaching")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            self.perimeter_queryset(request)
            .select_related("cadre__structure", "coach")
            .annotate(realisees=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)))
        )

    def get_readonly_fields(self, request, obj=None):
        fields = ["demande", "suggestions", "planifier", "cree_le"]
        if obj is not None:
            fields.append("cadre")  # an engagement does not move to another person
            if obj.statut not in ASSIGNABLE:
                fields.append("coach")
        return fields

    def get_inlines(self, request, obj):
        return [SeanceCoachingInline] if obj is not None else []

    @admin.display(description="séances réalisées / prévues", ordering="realisees")
    def seances(self, obj):
        return f"{obj.realisees} / {obj.nb_seances_prevues}"

    @admin.display(description="séances")
    def planifier(self, obj):
        if obj is None or obj.pk is None or obj.statut not in Coaching.ACTIVE_STATUSES:
            return "Les séances se planifient une fois le coaching contractualisé."
        return format_html(
            '<a class="button" href="{}">Planifier une séance</a>',
            reverse("admin:coaching_coaching_schedule", args=[obj.pk]),
        )

    @admin.display(description="coachs suggérés")
    def suggestions(self, obj):
        if obj is None or obj.pk is None:
            return "Enregistrez le coaching : les coachs disponibles seront alors proposés."
        if obj.statut not in ASSIGNABLE:
            return "Le coach ne peut plus être changé à ce stade du coaching."
        proposals = services.suggest(obj)
        if not proposals:
            return (
                "Aucun coach disponible : tous sont inactifs, complets ou dans la ligne "
                "hiérarchique du cadre."
            )
        items = format_html_join(
            "",
            "<li><strong>{}</strong> ({}) – score {}<ul>{}</ul></li>",
            (
                (
                    s.coach,
                    s.coach.organisme or s.coach.get_type_display(),
                    s.score,
                    format_html_join("", "<li>{}</li>", ((reason,) for reason in s.reasons)),
                )
                for s in proposals
            ),
        )
        return format_html('<ol class="coaching-suggestions">{}</ol>', items)

    def save_model(self, request, obj, form, change):
        """Everything but the coach and the status is saved as edited; the coach goes
        through ``services.assign`` (capacity, lock, mail to the coach) and the status
        through ``services.change_status`` (transitions, evaluations at the end)."""
        coach, statut = obj.coach, obj.statut
        if change:
            stored = Coaching.objects.values("coach_id", "statut").get(pk=obj.pk)
            obj.coach_id, obj.statut = stored["coach_id"], stored["statut"]
        else:
            obj.coach, obj.statut = None, Coaching.Statut.A_AFFECTER
        previous_coach, previous_statut = obj.coach_id, obj.statut
        try:
            with transaction.atomic():  # a savepoint: on refusal, nothing is kept
                self._save_through_services(
                    request, obj, coach, statut, previous_coach, previous_statut
                )
        except ValidationError as error:
            # Another délégué got there first (e.g. the coach's last slot).
            messages.error(request, " ".join(error.messages))
        if obj.pk and Coaching.objects.filter(pk=obj.pk).exists():
            obj.refresh_from_db()

    def _save_through_services(self, request, obj, coach, statut, previous_coach, previous_statut):
        obj.save()
        if coach is not None and coach.pk != previous_coach:
            services.assign(obj, coach, by=request.user)
            messages.success(request, f"{coach} est affecté(e) : le coaching est contractualisé.")
        elif coach is None and previous_coach is not None:
            obj.coach = None
            obj.save(update_fields=["coach"])
        if statut != previous_statut:
            current = Coaching.objects.values_list("statut", flat=True).get(pk=obj.pk)
            if statut != current:
                services.change_status(
                    obj, statut, by=request.user, reunion_cloture_le=obj.reunion_cloture_le
                )
                if statut == Coaching.Statut.TERMINE:
                    messages.info(
                        request, "Coaching terminé : l'évaluation de fin de parcours est demandée."
                    )

    # --- Budget -----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "budget/",
                self.admin_site.admin_view(self.budget_view),
                name="coaching_coaching_budget",
            ),
            path(
                "<int:pk>/planifier/",
                self.admin_site.admin_view(self.schedule_view),
                name="coaching_coaching_schedule",
            ),
            *super().get_urls(),
        ]

    def schedule_view(self, request, pk):
        """The délégué plans a session, with the coach's form and the same service
        (allowance, numbering, reminders and calendar)."""
        coaching = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_change_permission(request, coaching):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                seance = services.schedule(coaching, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    f"Séance n° {seance.numero} planifiée le "
                    f"{timezone.localtime(seance.debut):%d/%m/%Y à %H:%M}.",
                )
                return redirect("admin:coaching_coaching_change", coaching.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Planifier une séance – {coaching}",
            "coaching": coaching,
            "form": form,
        }
        return TemplateResponse(request, "admin/coaching/coaching/schedule.html", context)

    def budget_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        annee = _year(request.GET.get("annee"))
        result = budget.compute(self.perimeter_queryset(request), annee)
        export = request.GET.get("format")
        if export in ("csv", "xlsx"):
            data = budget.dataset(result)
            if export == "csv":
                content = data.export("csv").encode("utf-8-sig")  # accents in spreadsheets
                content_type = "text/csv; charset=utf-8"
            else:
                content = data.export("xlsx")
                content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            response = HttpResponse(content, content_type=content_type)
            response["Content-Disposition"] = (
                f'attachment; filename="budget-coaching-{annee}.{export}"'
            )
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Budget du coaching externe – {annee}",
            "budget": result,
            "annee": annee,
            "annee_precedente": annee - 1,
            "annee_suivante": annee + 1,
        }
        return TemplateResponse(request, "admin/coaching/coaching/budget.html", context)


def _year(value):
    try:
        year = int(value)
    except (TypeError, ValueError):
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year
