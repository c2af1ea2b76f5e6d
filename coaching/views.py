"""Portal pages of coaching: the coached cadre and the coach, each seeing only theirs.

Every lookup is restricted to the request's user in the role the page needs, so an
engagement, a session or a note of someone else answers 404, never 403: ids of
others do not leak. Rules (dates, allowance, transitions) live in ``services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import services
from .forms import MarkForm, NoteForm, PostponeRequestForm, ScheduleForm
from .models import Coaching, NoteCoach, SeanceCoaching


def _mine(user):
    """Engagements of the user, as coached cadre or as coach."""
    return Coaching.objects.filter(Q(cadre__user=user) | Q(coach__user=user)).select_related(
        "cadre__structure", "coach"
    )


def _as_coach(user):
    """Engagements whose coach is the user: the only ones a coach acts on."""
    return Coaching.objects.filter(coach__user=user).select_related("cadre__structure", "coach")


def _messages_of(error: ValidationError):
    return [str(m) for m in error.messages]


@login_required
def coaching_list(request):
    user = request.user
    coachings = _mine(user).annotate(
        realisees=Count("seances", filter=Q(seances__statut=SeanceCoaching.Statut.REALISEE)),
        planifiees=Count(
            "seances",
            filter=Q(
                seances__statut=SeanceCoaching.Statut.PLANIFIEE, seances__debut__gt=timezone.now()
            ),
        ),
    )
    coachings = list(coachings.order_by("-cree_le"))
    as_cadre = [c for c in coachings if c.cadre.user_id == user.pk]
    as_coach = [c for c in coachings if c.coach_id and c.coach.user_id == user.pk]
    return render(
        request,
        "coaching/list.html",
        {"page_title": "Coaching", "as_cadre": as_cadre, "as_coach": as_coach},
    )


def _session_rows(seances, is_coach, now):
    """Each session with the forms that apply to it for the viewer (no queries)."""
    rows = []
    for seance in seances:
        upcoming = seance.statut == SeanceCoaching.Statut.PLANIFIEE and seance.debut > now
        row = {"seance": seance, "upcoming": upcoming}
        if is_coach:
            if seance.statut == SeanceCoaching.Statut.PLANIFIEE:
                row["can_mark_held"] = seance.debut <= now
                row["mark_url"] = reverse("coaching:seance_statut", args=[seance.pk])
                form = MarkForm(auto_id=f"id_seance_{seance.pk}_%s", action=row["mark_url"])
                form.fields["debut"].label = f"Reporter la séance n° {seance.numero} au"
                form.fields["debut"].required = True  # for this button, shown as such
                row["postpone_form"] = form
        elif upcoming:
            form = PostponeRequestForm(
                auto_id=f"id_report_{seance.pk}_%s",
                action=reverse("coaching:seance_report", args=[seance.pk]),
            )
            form.fields["motif"].label = f"Motif du report de la séance n° {seance.numero}"
            row["report_form"] = form
        rows.append(row)
    return rows


def _allowance(coaching, seances):
    counted = [s for s in seances if s.statut != SeanceCoaching.Statut.ANNULEE]
    realisees = sum(1 for s in seances if s.statut == SeanceCoaching.Statut.REALISEE)
    return {
        "realisees": realisees,
        "planifiees": len(counted) - realisees,
        "restantes": max(coaching.nb_seances_prevues - len(counted), 0),
        "prevues": coaching.nb_seances_prevues,
    }


def _detail_context(request, coaching):
    user = request.user
    is_coach = coaching.coach_id is not None and coaching.coach.user_id == user.pk
    now = timezone.now()
    seances = list(coaching.seances.order_by("numero"))
    context = {
        "page_title": f"Coaching de {coaching.cadre}",
        "coaching": coaching,
        "is_coach": is_coach,
        "rows": _session_rows(seances, is_coach, now),
        "allowance": _allowance(coaching, seances),
    }
    if is_coach:
        can_schedule = coaching.statut in Coaching.ACTIVE_STATUSES
        context.update(
            can_schedule=can_schedule,
            schedule_form=(
                ScheduleForm(action=reverse("coaching:schedule", args=[coaching.pk]))
                if can_schedule
                else None
            ),
            postponements=[
                s
                for s in seances
                if s.report_demande_le and s.statut == SeanceCoaching.Statut.PLANIFIEE
            ],
            # Private: the author's own notes only, whoever else may have written some.
            notes=list(NoteCoach.objects.filter(coaching=coaching, auteur=user)),
            note_form=NoteForm(action=reverse("coaching:note_add", args=[coaching.pk])),
        )
    return context


@login_required
def coaching_detail(request, pk):
    coaching = get_object_or_404(_mine(request.user), pk=pk)
    return render(request, "coaching/detail.html", _detail_context(request, coaching))


@login_required
def schedule(request, pk):
    """The coach plans a session. The form sits on the engagement's page; this page
    shows it alone, with the service's refusals as form errors."""
    coaching = get_object_or_404(_as_coach(request.user), pk=pk)
    action = reverse("coaching:schedule", args=[coaching.pk])
    form = ScheduleForm(request.POST or None, action=action)
    if request.method == "POST" and form.is_valid():
        try:
            seance = services.schedule(coaching, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Séance n° {seance.numero} planifiée le "
                f"{timezone.localtime(seance.debut):%d/%m/%Y à %H:%M}. "
                "Le cadre et vous recevrez un rappel.",
            )
            return redirect(coaching)
    return render(
        request,
        "coaching/schedule.html",
        {"page_title": "Planifier une séance", "coaching": coaching, "form": form},
    )


@login_required
@require_POST
def seance_statut(request, pk):
    """The coach records a session as held, cancelled or postponed to a new date."""
    seance = get_object_or_404(
        SeanceCoaching.objects.select_related("coaching"), pk=pk, coaching__coach__user=request.user
    )
    form = MarkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Séance n° {seance.numero} : {error}")
        return redirect(seance.coaching)
    statut = form.cleaned_data["statut"]
    try:
        seance = services.mark(seance, statut, debut=form.cleaned_data.get("debut"))
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, f"Séance n° {seance.numero} : {message}")
    else:
        if statut == SeanceCoaching.Statut.REPORTEE:
            messages.success(
                request,
                f"Séance n° {seance.numero} reportée au "
                f"{timezone.localtime(seance.debut):%d/%m/%Y à %H:%M}. "
                "Les rappels et les agendas suivent.",
            )
        else:
            label = dict(MarkForm.CHOICES)[statut].lower()
            messages.success(request, f"Séance n° {seance.numero} marquée {label}.")
    return redirect(seance.coaching)


@login_required
@require_POST
def seance_report(request, pk):
    """The coached cadre asks the coach to move a session."""
    seance = get_object_or_404(
        SeanceCoaching.objects.select_related("coaching__coach__user"),
        pk=pk,
        coaching__cadre__user=request.user,
    )
    form = PostponeRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Indiquez le motif de votre demande de report.")
        return redirect(seance.coaching)
    try:
        services.ask_postponement(seance, form.cleaned_data["motif"], by=request.user)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"Votre demande de report de la séance n° {seance.numero} est transmise à "
            "votre coach, qui vous proposera une autre date.",
        )
    return redirect(seance.coaching)


@login_required
@require_POST
def note_add(request, pk):
    """A private note of the coach on one of their engagements."""
    coaching = get_object_or_404(Coaching, pk=pk, coach__user=request.user)
    form = NoteForm(request.POST)
    if form.is_valid():
        NoteCoach.objects.create(
            coaching=coaching, auteur=request.user, texte=form.cleaned_data["texte"]
        )
        messages.success(request, "Note enregistrée. Vous seul pouvez la lire.")
    else:
        for error in form.errors.get("texte", []):
            messages.error(request, f"Note non enregistrée : {error}")
    return redirect(reverse("coaching:detail", args=[coaching.pk]) + "#notes")
