"""Portal pages of coaching: the coached cadre and the coach, each seeing only theirs.

Every lookup is restricted to the request's user in the role the page needs, so an
engagement, a session or a note of someone else answers 404, never 403: ids of
others do not leak. Rules (dates, allowance, transitions) live in ``services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import services
from .forms import (
    BookMeetingForm,
    ChoiceForm,
    MarkForm,
    NewShortlistForm,
    NoteForm,
    PostponeRequestForm,
    ScheduleForm,
)
from .models import (
    USED_STATUSES,
    Coaching,
    EntretienDecouverte,
    ExtensionForfait,
    NoteCoach,
    Preselection,
    Proposition,
    SeanceCoaching,
)


def _mine(user):
    """Engagements of the user, as coached cadre or as coach."""
    return (
        Coaching.objects.filter(Q(cadre__user=user) | Q(coach__user=user))
        .select_related("cadre__structure", "coach")
        .annotate(prolonge=Exists(ExtensionForfait.objects.filter(coaching=OuterRef("pk"))))
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
        a_choisir=Exists(
            Preselection.objects.filter(
                coaching=OuterRef("pk"),
                statut__in=(Preselection.Statut.PROPOSEE, Preselection.Statut.ENTRETIENS),
            )
        ),
        realisees=Count("seances", filter=Q(seances__statut=SeanceCoaching.Statut.REALISEE)),
        utilisees=Count("seances", filter=Q(seances__statut__in=USED_STATUSES)),
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
    # A shortlisted coach's discovery meetings to come (not yet their coachee).
    meetings = list(
        _meetings_of(user)
        .filter(
            proposition__coach__user=user,
            statut=EntretienDecouverte.Statut.PLANIFIEE,
            debut__gt=timezone.now(),
        )
        .order_by("debut")
    )
    return render(
        request,
        "coaching/list.html",
        {
            "page_title": "Coaching",
            "as_cadre": as_cadre,
            "as_coach": as_coach,
            "meetings": meetings,
        },
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
        "allowance": coaching.allowance(seances),
    }
    if not is_coach and coaching.statut == Coaching.Statut.A_AFFECTER:
        context["preselection"] = coaching.preselections.first()
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


# --- Shortlist and discovery meetings (the cadre; the shortlisted coach) -------------


def _as_cadre(user):
    return Coaching.objects.filter(cadre__user=user).select_related("cadre", "coach")


def _meetings_of(user):
    """Discovery meetings the user takes part in, as the cadre or as the coach."""
    return EntretienDecouverte.objects.filter(
        Q(proposition__preselection__coaching__cadre__user=user) | Q(proposition__coach__user=user)
    ).select_related(
        "proposition__coach__user",
        "proposition__preselection__coaching__cadre__structure",
        "proposition__preselection__coaching__cadre__user",
    )


def _shortlist_context(coaching, choice_form=None, new_form=None):
    """The cadre's shortlists, newest first, each coach with their profile and
    meetings: a fixed number of queries whatever their number."""
    now = timezone.now()
    propositions = Proposition.objects.select_related("coach").prefetch_related(
        "coach__specialites",
        "coach__certifications",
        Prefetch("entretiens", queryset=EntretienDecouverte.objects.order_by("debut")),
    )
    preselections = list(
        coaching.preselections.select_related("coach_choisi").prefetch_related(
            Prefetch("propositions", queryset=propositions)
        )
    )
    if not preselections:
        raise Http404("Aucune présélection de coachs pour ce coaching.")
    current = preselections[0]
    today = timezone.localdate()
    rows = []
    for proposition in current.propositions.all():
        meetings = list(proposition.entretiens.all())
        booked = next(
            (
                e
                for e in meetings
                if e.statut == EntretienDecouverte.Statut.PLANIFIEE and e.debut > now
            ),
            None,
        )
        rows.append(
            {
                "proposition": proposition,
                "coach": proposition.coach,
                "accreditations": [
                    a for a in proposition.coach.certifications.all() if a.is_valid(today)
                ],
                "meetings": meetings,
                "booked": booked,
                "can_book": current.cadre_may_act and not booked and not proposition.liberee_le,
            }
        )
    active = [p for p in current.propositions.all() if not p.liberee_le]
    context = {
        "page_title": "Choisir mon coach",
        "now": now,
        "coaching": coaching,
        "preselection": current,
        "history": preselections[1:],
        "rows": rows,
    }
    if current.cadre_may_act:
        context["choice_form"] = choice_form or ChoiceForm(
            propositions=active,
            action=reverse("coaching:preselection_choisir", args=[coaching.pk]),
        )
        context["new_form"] = new_form or NewShortlistForm(
            action=reverse("coaching:preselection_autre", args=[coaching.pk])
        )
    return context


@login_required
def preselection(request, pk):
    """The cadre's shortlist: the coaches' profiles, the meetings, the choice."""
    coaching = get_object_or_404(_as_cadre(request.user), pk=pk)
    return render(request, "coaching/preselection.html", _shortlist_context(coaching))


def _open_shortlist(request, pk):
    coaching = get_object_or_404(_as_cadre(request.user), pk=pk)
    current = coaching.preselections.open().first()
    if current is None:
        raise Http404("Aucune présélection en cours pour ce coaching.")
    return coaching, current


@login_required
@require_POST
def preselection_choisir(request, pk):
    coaching, current = _open_shortlist(request, pk)
    active = list(current.propositions.filter(liberee_le__isnull=True).select_related("coach"))
    form = ChoiceForm(
        request.POST,
        propositions=active,
        action=reverse("coaching:preselection_choisir", args=[coaching.pk]),
    )
    if form.is_valid():
        coach = next(p.coach for p in active if p.coach_id == form.cleaned_data["coach"])
        try:
            services.choose(current, coach, form.cleaned_data["motif"], by=request.user)
        except ValidationError as error:
            if not current.cadre_may_act:  # the page no longer shows this form
                for message in _messages_of(error):
                    messages.error(request, message)
                return redirect("coaching:preselection", coaching.pk)
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Votre choix ({coach}) est transmis à votre délégué, qui le confirme.",
            )
            return redirect("coaching:preselection", coaching.pk)
    context = _shortlist_context(coaching, choice_form=form)
    return render(request, "coaching/preselection.html", context)


@login_required
@require_POST
def preselection_autre(request, pk):
    coaching, current = _open_shortlist(request, pk)
    form = NewShortlistForm(
        request.POST, action=reverse("coaching:preselection_autre", args=[coaching.pk])
    )
    if form.is_valid():
        try:
            services.ask_new_shortlist(current, form.cleaned_data["motif"], by=request.user)
        except ValidationError as error:
            if not current.cadre_may_act:  # the page no longer shows this form
                for message in _messages_of(error):
                    messages.error(request, message)
                return redirect("coaching:preselection", coaching.pk)
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Votre demande est transmise : votre délégué vous proposera d'autres coachs.",
            )
            return redirect("coaching:preselection", coaching.pk)
    context = _shortlist_context(coaching, new_form=form)
    return render(request, "coaching/preselection.html", context)


@login_required
def entretien_reserver(request, pk):
    """The cadre books a discovery meeting with one shortlisted coach."""
    proposition = get_object_or_404(
        Proposition.objects.select_related("coach", "preselection__coaching__cadre"),
        pk=pk,
        preselection__coaching__cadre__user=request.user,
    )
    coaching = proposition.preselection.coaching
    action = reverse("coaching:entretien_reserver", args=[proposition.pk])
    form = BookMeetingForm(request.POST or None, action=action)
    if request.method == "POST" and form.is_valid():
        try:
            entretien = services.book_meeting(proposition, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Entretien de découverte avec {proposition.coach} réservé le "
                f"{timezone.localtime(entretien.debut):%d/%m/%Y à %H:%M} (30 minutes). "
                "Vous et le coach recevrez un rappel.",
            )
            return redirect("coaching:preselection", coaching.pk)
    return render(
        request,
        "coaching/entretien_reserver.html",
        {
            "page_title": f"Entretien de découverte avec {proposition.coach}",
            "coaching": coaching,
            "proposition": proposition,
            "form": form,
        },
    )


@login_required
def entretien(request, pk):
    """A discovery meeting, for the cadre and for the shortlisted coach only."""
    entretien = get_object_or_404(_meetings_of(request.user), pk=pk)
    proposition = entretien.proposition
    coaching = proposition.preselection.coaching
    is_coach = proposition.coach.user_id == request.user.pk
    return render(
        request,
        "coaching/entretien.html",
        {
            "page_title": "Entretien de découverte",
            "entretien": entretien,
            "proposition": proposition,
            "coach": proposition.coach,
            "cadre": coaching.cadre,
            "shortlist_coaching": coaching,
            "is_coach": is_coach,
            "can_cancel": entretien.statut == EntretienDecouverte.Statut.PLANIFIEE
            and entretien.debut > timezone.now(),
        },
    )


@login_required
@require_POST
def entretien_annuler(request, pk):
    entretien = get_object_or_404(_meetings_of(request.user), pk=pk)
    try:
        services.cancel_meeting(entretien, by=request.user)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    else:
        messages.success(request, "Entretien annulé : l'autre participant en est informé.")
    return redirect("coaching:entretien", entretien.pk)
