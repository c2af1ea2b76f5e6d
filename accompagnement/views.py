from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadres.models import Cadre, Role
from cadres.perimeter import filter_for_user

from . import calendar, registry
from .forms import DemandeForm, EvaluationForm
from .models import CalendarFeed, Demande, Evaluation, new_feed_token
from .services import demandes as demande_services
from .services import evaluations as evaluation_services

UPCOMING_LIMIT = 10


def _cadre_of(user):
    return (
        Cadre.objects.select_related("structure", "responsable")
        .prefetch_related("viviers")
        .filter(user=user)
        .first()
    )


def upcoming_sessions(user, limit=UPCOMING_LIMIT):
    """Next planned sessions across every scheme: one query per session model."""
    now = timezone.now()
    sessions = []
    for scheme in registry.all_schemes():
        for qs in registry.session_querysets(scheme, user):
            qs = qs.filter(debut__gte=now, statut="planifiee")
            sessions += list(qs.order_by("debut")[:limit])
    return sorted(sessions, key=lambda s: s.debut)[:limit]


def _cards(user, attribute, providers=()):
    """The cards every scheme's ``attribute`` gives for ``user``, then ``providers``'."""
    providers = [getattr(scheme, attribute) for scheme in registry.all_schemes()] + [*providers]
    return [card for provider in providers if provider for card in provider(user)]


@login_required
def home(request):
    """The signed-in person's home: profile, programmes of every scheme, next
    sessions, pending actions, then one panel per role."""
    user = request.user
    cadre = _cadre_of(user)
    roles = list(user.roles.prefetch_related("structures"))
    kinds = {role.kind for role in roles}
    staff_perimeter_count = None
    if kinds & Role.STAFF_KINDS or user.is_superuser:
        staff_perimeter_count = filter_for_user(Cadre.objects.all(), user, "structure").count()
    pending_evaluations = list(
        Evaluation.objects.filter(participant=user, remplie_le__isnull=True).order_by("demandee_le")
    )
    open_demandes = (
        list(Demande.objects.filter(cadre=cadre).open().order_by("-recue_le")) if cadre else []
    )
    return render(
        request,
        "accompagnement/home.html",
        {
            "page_title": "Mon espace",
            "cadre": cadre,
            "roles": roles,
            "kinds": kinds,
            "Kind": Role.Kind,
            "staff_perimeter_count": staff_perimeter_count,
            "programmes": _cards(user, "programmes_for"),
            "actions": _cards(user, "actions_for", registry.action_providers()),
            "sessions": upcoming_sessions(user),
            "pending_evaluations": pending_evaluations,
            "open_demandes": open_demandes,
        },
    )


def _require_cadre(request):
    cadre = _cadre_of(request.user)
    if cadre is None:
        raise Http404("Aucun profil de cadre n'est rattaché à votre compte.")
    return cadre


@login_required
def demande_list(request):
    cadre = _require_cadre(request)
    demandes = Demande.objects.filter(cadre=cadre).order_by("-recue_le")
    return render(
        request,
        "accompagnement/demande_list.html",
        {"page_title": "Mes demandes", "demandes": demandes},
    )


@login_required
def demande_create(request):
    cadre = _require_cadre(request)
    # A link may preset the scheme and the context (a cohort's right, a scheme's page).
    preset = {key: request.GET[key] for key in ("dispositif", "contexte") if key in request.GET}
    form = DemandeForm(request.POST or None, initial=preset)
    if request.method == "POST" and form.is_valid():
        demande = demande_services.submit(
            cadre, by=request.user, origine=Demande.Origine.CADRE, **form.cleaned_data
        )
        messages.success(
            request,
            "Votre demande est enregistrée. Une réponse vous sera apportée avant le "
            f"{demande.echeance:%d/%m/%Y}.",
        )
        return redirect("portal:demande_detail", pk=demande.pk)
    return render(
        request,
        "accompagnement/demande_form.html",
        {"page_title": "Demander un accompagnement", "form": form},
    )


@login_required
def demande_detail(request, pk):
    cadre = _require_cadre(request)
    demande = get_object_or_404(Demande.objects.select_related("delegue"), pk=pk, cadre=cadre)
    return render(
        request,
        "accompagnement/demande_detail.html",
        {"page_title": "Ma demande", "demande": demande},
    )


@login_required
def evaluation(request, pk):
    evaluation = get_object_or_404(Evaluation, pk=pk, participant=request.user)
    if not evaluation.is_pending:
        messages.info(request, "Vous avez déjà répondu à cette évaluation. Merci !")
        return redirect("portal:home")
    form = EvaluationForm(request.POST or None, instance=evaluation)
    if request.method == "POST" and form.is_valid():
        evaluation_services.answer(evaluation, **form.cleaned_data)
        messages.success(request, "Merci, votre évaluation est enregistrée.")
        return redirect("portal:home")
    return render(
        request,
        "accompagnement/evaluation_form.html",
        {"page_title": "Évaluer mon accompagnement", "form": form, "evaluation": evaluation},
    )


@login_required
def agenda(request):
    feed, _ = CalendarFeed.objects.get_or_create(user=request.user)
    url = request.build_absolute_uri(f"/calendrier/{feed.token}.ics")
    return render(
        request,
        "accompagnement/agenda.html",
        {"page_title": "Mon agenda", "feed_url": url, "sessions": upcoming_sessions(request.user)},
    )


@login_required
@require_POST
def agenda_revoke(request):
    CalendarFeed.objects.update_or_create(
        user=request.user, defaults={"token": new_feed_token(), "created_at": timezone.now()}
    )
    messages.success(
        request,
        "Nouvelle adresse créée : l'ancienne ne fonctionne plus. Mettez à jour votre agenda.",
    )
    return redirect("portal:agenda")


def calendar_feed(request, token):
    """The secret ICS feed: no sign-in, the unguessable token is the key."""
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("user"), token=token, user__is_active=True
    )
    response = HttpResponse(calendar.feed(feed.user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="accompagnement.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
