"""Portal pages of mentoring: the mentee and the mentor, each seeing only their own
relations. Any lookup is restricted to the request's user, so the relation, meeting
or note of someone else answers 404, never 403. Rules live in ``services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accompagnement.models import Session

from . import activite, services
from .forms import (
    AcceptForm,
    BesoinsForm,
    DeclineForm,
    MarkMeetingForm,
    MeetingForm,
    NoteForm,
    PointEtapeForm,
)
from .models import Mentor, Mentorat, Mentore, NotePrivee, PointEtape, Rencontre


def _mine(user):
    return Mentorat.objects.of_user(user).select_related(
        "mentor__user", "mentore__user", "mentore__structure"
    )


def _flash(request, error, prefix=""):
    for message in error.messages:
        messages.error(request, f"{prefix}{message}")


@login_required
def mentorat_list(request):
    user = request.user
    relations = list(
        _mine(user)
        .annotate(
            tenues=Count("rencontres", filter=Q(rencontres__statut=Session.Statut.REALISEE)),
            derniere=Max("rencontres__debut", filter=Q(rencontres__statut=Session.Statut.REALISEE)),
        )
        .order_by("-cree_le")
    )
    as_mentor = [r for r in relations if r.mentor.user_id == user.pk]
    return render(
        request,
        "mentorat/list.html",
        {
            "page_title": "Mentorat",
            "as_mentee": [r for r in relations if r.mentore.user_id == user.pk],
            "as_mentor": as_mentor,
            "annees_activite": activite.years_of(as_mentor),
            "attente": Mentore.objects.filter(cadre__user=user).prefetch_related("besoins").first(),
        },
    )


def _meeting_rows(rencontres, notes, now):
    rows = []
    for rencontre in rencontres:
        rows.append(
            {
                "rencontre": rencontre,
                "can_mark_held": rencontre.statut == Session.Statut.PLANIFIEE
                and rencontre.debut <= now,
                "can_cancel": rencontre.statut == Session.Statut.PLANIFIEE,
                "note": notes.get(rencontre.pk),
                "note_form": NoteForm(
                    initial={"texte": getattr(notes.get(rencontre.pk), "texte", "")},
                    auto_id=f"id_note_{rencontre.pk}_%s",
                    action=reverse("mentorat:note", args=[rencontre.pk]),
                ),
            }
        )
    return rows


def _detail_context(request, mentorat, **forms):
    user = request.user
    side = services.side_of(mentorat, user)
    now = timezone.now()
    rencontres = list(mentorat.rencontres.select_related("saisie_par").order_by("-debut"))
    # Private: the viewer's own notes only.
    notes = {
        n.rencontre_id: n
        for n in NotePrivee.objects.filter(rencontre__mentorat=mentorat, auteur=user)
    }
    answered = (
        mentorat.charte_mentor_le if side == "mentor" else mentorat.charte_mentore_le
    ) is not None
    awaiting = mentorat.statut == Mentorat.Statut.PROPOSE and not answered
    live = mentorat.statut in Mentorat.LIVE_STATUSES
    context = {
        "page_title": f"Mentorat de {mentorat.mentore}" if side == "mentor" else "Mon mentorat",
        "mentorat": mentorat,
        "side": side,
        "awaiting": awaiting,
        "answered": answered,
        "rows": _meeting_rows(rencontres, notes, now),
        "tenues": sum(1 for r in rencontres if r.statut == Session.Statut.REALISEE),
        "silent": live and services.silent_relations().filter(pk=mentorat.pk).exists(),
        "points_etape": list(services.health_checks_for(user, mentorat).order_by("numero")),
    }
    if awaiting:
        context["accept_form"] = forms.get("accept_form") or AcceptForm(
            action=reverse("mentorat:accept", args=[mentorat.pk])
        )
        context["decline_form"] = forms.get("decline_form") or DeclineForm(
            action=reverse("mentorat:decline", args=[mentorat.pk])
        )
    if live:
        context["meeting_form"] = forms.get("meeting_form") or MeetingForm(
            action=reverse("mentorat:meeting", args=[mentorat.pk])
        )
    return context


@login_required
def detail(request, pk):
    mentorat = get_object_or_404(_mine(request.user), pk=pk)
    return render(request, "mentorat/detail.html", _detail_context(request, mentorat))


def _answer(request, pk, form_class, form_name, url_name, act):
    """A form of the relation's page: the service acts, or the page comes back with
    the form and its errors (nothing changed)."""
    mentorat = get_object_or_404(_mine(request.user), pk=pk)
    form = form_class(request.POST, action=reverse(url_name, args=[pk]))
    if form.is_valid():
        try:
            act(mentorat, form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return redirect(mentorat)
    mentorat.refresh_from_db()
    context = _detail_context(request, mentorat, **{form_name: form})
    if context.get(form_name) is not form:
        # The relation has moved on and the page no longer shows this form: say why.
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return render(request, "mentorat/detail.html", context, status=400)


@login_required
@require_POST
def accept(request, pk):
    def act(mentorat, data):
        mentorat = services.accept(mentorat, request.user, charte=data["charte"])
        if mentorat.statut == Mentorat.Statut.ACCEPTE:
            messages.success(
                request, "Proposition acceptée de part et d'autre : le mentorat commence."
            )
        else:
            messages.success(
                request,
                "Votre acceptation est enregistrée ; "
                "l'autre membre du binôme doit encore répondre.",
            )

    return _answer(request, pk, AcceptForm, "accept_form", "mentorat:accept", act)


@login_required
@require_POST
def decline(request, pk):
    def act(mentorat, data):
        services.decline(mentorat, request.user, data["motif"])
        messages.success(request, "Proposition déclinée. Le délégué en est informé.")

    return _answer(request, pk, DeclineForm, "decline_form", "mentorat:decline", act)


@login_required
@require_POST
def meeting(request, pk):
    def act(mentorat, data):
        rencontre = services.log_meeting(mentorat, request.user, **data)
        if rencontre.statut == Session.Statut.REALISEE:
            messages.success(request, "Rencontre enregistrée.")
        else:
            messages.success(
                request,
                f"Rencontre planifiée le {timezone.localtime(rencontre.debut):%d/%m/%Y à %H:%M}. "
                "Vous recevrez tous deux un rappel.",
            )

    return _answer(request, pk, MeetingForm, "meeting_form", "mentorat:meeting", act)


def _my_meeting(user, pk):
    rencontre = (
        Rencontre.objects.select_related("mentorat__mentor", "mentorat__mentore")
        .filter(Q(mentorat__mentor__user=user) | Q(mentorat__mentore__user=user))
        .filter(pk=pk)
        .first()
    )
    if rencontre is None:
        raise Http404
    return rencontre


@login_required
@require_POST
def meeting_status(request, pk):
    rencontre = _my_meeting(request.user, pk)
    form = MarkMeetingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Statut de rencontre inconnu.")
    else:
        try:
            services.mark_meeting(rencontre, request.user, form.cleaned_data["statut"])
        except ValidationError as error:
            _flash(request, error)
        else:
            messages.success(request, "Rencontre mise à jour.")
    return redirect(rencontre.mentorat)


@login_required
@require_POST
def note(request, pk):
    rencontre = _my_meeting(request.user, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.save_note(rencontre, request.user, form.cleaned_data["texte"])
        messages.success(request, "Note enregistrée. Vous seul pouvez la lire.")
    else:
        for error in form.errors.get("texte", []):
            messages.error(request, f"Note non enregistrée : {error}")
    return redirect(
        reverse("mentorat:detail", args=[rencontre.mentorat_id]) + f"#rencontre-{rencontre.pk}"
    )


@login_required
def besoins(request):
    """The mentee's needs and wishes, while waiting for a mentor."""
    mentore = get_object_or_404(Mentore, cadre__user=request.user)
    if mentore.statut != Mentore.Statut.EN_ATTENTE:
        messages.info(request, "Vos souhaits ne se modifient que pendant l'attente d'un mentor.")
        return redirect("mentorat:list")
    form = BesoinsForm(request.POST or None, instance=mentore, action=reverse("mentorat:besoins"))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request, "Vos souhaits sont enregistrés ; ils serviront à la prochaine campagne."
        )
        return redirect("mentorat:list")
    return render(
        request,
        "mentorat/besoins.html",
        {"page_title": "Mes souhaits de mentorat", "form": form, "mentore": mentore},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def point_etape(request, pk):
    """A health check, answered by the side it was sent to; anybody else, the other
    side included, gets 404 (the answers are the délégué's signal, not theirs)."""
    point = get_object_or_404(
        PointEtape.objects.select_related(
            "mentorat__mentor__user", "mentorat__mentore__user", "mentorat__mentore__structure"
        ),
        pk=pk,
    )
    mentorat = point.mentorat
    if services.side_of(mentorat, request.user) != point.cote:
        raise Http404
    action = reverse("mentorat:point_etape", args=[pk])
    form = None
    if point.repondu_le is None:
        form = PointEtapeForm(request.POST or None, action=action)
        if request.method == "POST" and form.is_valid():
            try:
                services.answer_health_check(point, request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    "Merci : vos réponses sont transmises au délégué à l'encadrement supérieur.",
                )
                return redirect(mentorat)
    elif request.method == "POST":
        messages.error(request, "Vous avez déjà répondu à ce point d'étape.")
        return redirect(action)
    return render(
        request,
        "mentorat/point_etape.html",
        {
            "page_title": f"Point d'étape n° {point.numero}",
            "point": point,
            "mentorat": mentorat,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def activite_export(request, fmt):
    """The mentor's own activity record (PDF or CSV), for their annual review; 404 for
    anyone who is not a mentor."""
    mentor = get_object_or_404(Mentor.objects.select_related("structure"), user=request.user)
    return activite.response(mentor, Mentorat.objects.all(), fmt, request.GET.get("annee"))
