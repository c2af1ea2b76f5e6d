"""The facilitator space (/codev/) and the members' view of their groups.

Every lookup is restricted to the request's user in the role the page needs: a group
is seen by its animateur and its members, acted on by its animateur only, and a séance's
runner is opened by the group's animateur only, and a séance's four-A evaluation by the
group's members only. Anything else answers 404, never 403,
so that ids of other groups do not leak. Only creating a group needs a role (animateur):
without it, 403. Rules (size, cycle, rotation, the runner's state) live in ``services``;
their refusals come back as French errors on the form that caused them.
"""

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Min, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadres.models import Role

from . import services
from .forms import (
    AddMemberForm,
    AttendanceForm,
    ClientForm,
    ContratForm,
    EvaluationForm,
    GroupeForm,
    LearningsForm,
    NextPhaseForm,
    PlanForm,
    ProblemeForm,
    RegulationForm,
    RescheduleForm,
    SuiviForm,
)
from .models import (
    MAX_MEMBRES,
    PHASES,
    EvaluationRendue,
    Groupe,
    Membre,
    Phase,
    PlanAction,
    Presence,
    Seance,
)


def groupes_of(user):
    """Groups the user animates or belongs to; nobody sees other groups."""
    return Groupe.objects.of_user(user)


def _animated(user):
    """Groups the user animates: the only ones they act on."""
    return Groupe.objects.filter(animateur=user)


def is_animateur(user):
    return user.roles.filter(kind=Role.Kind.ANIMATEUR).exists()


def _messages_of(error: ValidationError):
    return [str(m) for m in error.messages]


def _members_on(membres, day):
    """Members of the group on ``day``, from a list already loaded (no query)."""
    return [
        m
        for m in membres
        if m.date_entree <= day and (m.date_sortie is None or m.date_sortie >= day)
    ]


def _is_open(seance):
    """Neither started nor held nor cancelled: its client and date may still change."""
    return seance.statut == Seance.Statut.PLANIFIEE and not seance.phase


# --- Groups --------------------------------------------------------------------


@login_required
def groupe_list(request):
    user = request.user
    now = timezone.now()
    groupes = list(
        Groupe.objects.filter(pk__in=groupes_of(user).values("pk"))
        .select_related("structure")
        .annotate(
            nb_membres=Count("membres", filter=Q(membres__date_sortie__isnull=True), distinct=True),
            nb_seances=Count("seances", distinct=True),
            nb_realisees=Count(
                "seances", filter=Q(seances__statut=Seance.Statut.REALISEE), distinct=True
            ),
            prochaine=Min(
                "seances__debut",
                filter=Q(seances__statut=Seance.Statut.PLANIFIEE, seances__debut__gte=now),
            ),
        )
        .order_by("-date_debut", "nom")
    )
    return render(
        request,
        "codev/groupe_list.html",
        {
            "page_title": "Codéveloppement",
            "animes": [g for g in groupes if g.animateur_id == user.pk],
            "membre_de": [g for g in groupes if g.animateur_id != user.pk],
            "can_create": is_animateur(user),
            "max_membres": MAX_MEMBRES,
        },
    )


@login_required
def groupe_create(request):
    if not is_animateur(request.user):
        raise PermissionDenied("Seuls les animateurs de codéveloppement créent des groupes.")
    form = GroupeForm(
        request.POST or None,
        instance=Groupe(animateur=request.user),
        action=reverse("codev:groupe_create"),
    )
    if request.method == "POST" and form.is_valid():
        groupe = form.save()
        messages.success(
            request,
            f"Groupe « {groupe.nom} » créé. Ajoutez ses membres ({MAX_MEMBRES} au plus), "
            "puis planifiez le cycle des séances.",
        )
        return redirect(groupe)
    return render(
        request,
        "codev/groupe_form.html",
        {
            "page_title": "Créer un groupe de codéveloppement",
            "form": form,
            "max_membres": MAX_MEMBRES,
        },
    )


@login_required
def groupe_edit(request, pk):
    """The animateur changes the group's settings, the timings of the steps included;
    the séances to come follow a new length."""
    groupe = get_object_or_404(_animated(request.user), pk=pk)
    form = GroupeForm(
        request.POST or None, instance=groupe, action=reverse("codev:groupe_edit", args=[pk])
    )
    if request.method == "POST" and form.is_valid():
        groupe = form.save()
        if "duree" in form.changed_data:
            services.follow_group_duration(groupe)
        messages.success(request, "Groupe enregistré.")
        return redirect(groupe)
    return render(
        request,
        "codev/groupe_form.html",
        {
            "page_title": f"Modifier le groupe « {groupe.nom} »",
            "form": form,
            "groupe": groupe,
            "max_membres": MAX_MEMBRES,
        },
    )


def _my_evaluations(moi, seances):
    """For a member: the séances they may evaluate now, and those they have evaluated
    (two queries whatever the number of séances)."""
    if moi is None:
        return set(), set()
    done = set(EvaluationRendue.objects.filter(membre=moi).values_list("seance_id", flat=True))
    presences = {}
    for seance_id, membre_id, present in Presence.objects.filter(
        seance__in=[s.pk for s in seances]
    ).values_list("seance_id", "membre_id", "present"):
        presences.setdefault(seance_id, {})[membre_id] = present
    possible = set()
    for seance in seances:
        present = services.counts_as_present(presences.get(seance.pk, {}), moi.pk)
        on_day = _members_on([moi], seance.jour)
        if present and on_day and seance.pk not in done and services.evaluation_open(seance):
            possible.add(seance.pk)
    return possible, done


def _seance_rows(groupe, seances, membres, is_animateur, user, bound, evaluations=None):
    """Each séance with its client and, for the animateur, the forms that still apply
    (no queries: members and séances are loaded once)."""
    by_pk = {m.pk: m for m in membres}
    moi = next((m for m in membres if m.cadre.user_id == user.pk), None)
    possible, done = _my_evaluations(moi, seances)
    figures = (evaluations or {}).get("seances", {})
    rows = []
    for seance in seances:
        client = by_pk.get(seance.client_id)
        row = {
            "seance": seance,
            "client": client,
            "client_is_me": client is not None and client.cadre.user_id == user.pk,
            "open": _is_open(seance),
            "en_cours": bool(seance.phase) and not seance.terminee_le,
            "a_evaluer": seance.pk in possible,
            "evaluee": seance.pk in done,
            "evaluation": figures.get(seance.pk),
        }
        refused = ("client", seance.pk) in bound or ("reschedule", seance.pk) in bound
        if is_animateur and (row["open"] or refused):
            # A refused form stays on the page with its message, whatever the séance became.
            present = _members_on(membres, seance.jour)
            form = bound.get(("client", seance.pk)) or ClientForm(
                initial={"membre": seance.client_id},
                membres=present,
                auto_id=f"id_client_{seance.pk}_%s",
                action=reverse("codev:seance_client", args=[seance.pk]),
            )
            form.fields["membre"].label = f"Client de la séance n° {seance.numero}"
            row["client_form"] = form
            form = bound.get(("reschedule", seance.pk)) or RescheduleForm(
                initial={"debut": timezone.localtime(seance.debut)},
                auto_id=f"id_date_{seance.pk}_%s",
                action=reverse("codev:seance_reschedule", args=[seance.pk]),
            )
            form.fields["debut"].label = f"Nouvelle date de la séance n° {seance.numero}"
            row["reschedule_form"] = form
        rows.append(row)
    return rows


def _groupe_context(request, groupe, bound=None):
    bound = bound or {}
    user = request.user
    anime = groupe.animateur_id == user.pk
    membres = list(groupe.membres.select_related("cadre").order_by("date_entree", "pk"))
    actifs = [m for m in membres if m.date_sortie is None]
    seances = list(
        groupe.seances.annotate(
            nb_presents=Count("presences", filter=Q(presences__present=True))
        ).order_by("numero")
    )
    moi = next((m for m in membres if m.cadre.user_id == user.pk), None)
    # The four A: aggregates for the animateur only; members see what they may answer.
    evaluations = services.evaluation_figures(groupe.seances.all()) if anime else None
    context = {
        "page_title": groupe.nom,
        "groupe": groupe,
        "is_animateur": anime,
        "membres": membres,
        "nb_actifs": len(actifs),
        "max_membres": MAX_MEMBRES,
        "complet": len(actifs) >= MAX_MEMBRES,
        "rows": _seance_rows(groupe, seances, membres, anime, user, bound, evaluations),
        "evaluation_cycle": evaluations["cycle"] if evaluations else None,
        "min_reponses": services.MIN_ANSWERS,
        "moi": moi,
        "deroule": [
            {"label": Phase(value).label, "minutes": minutes}
            for value, minutes in groupe.phase_minutes().items()
        ],
    }
    if moi is not None:
        # A member reads their own action plans only: the others' stay in the group.
        context["mes_plans"] = list(
            PlanAction.objects.filter(seance__groupe=groupe, membre__cadre__user=user)
            .select_related("seance")
            .order_by("seance__numero")
        )
    if anime:
        context["add_form"] = bound.get("add") or AddMemberForm(
            action=reverse("codev:membre_add", args=[groupe.pk])
        )
        if not seances:
            preview = services.cycle_dates(groupe)
            context["cycle_preview"] = preview
            # Fewer séances than members: some would not be client in this cycle.
            context["cycle_court"] = bool(preview) and len(preview) < len(actifs)
    return context


def _groupe_page(request, groupe, bound=None):
    return render(request, "codev/groupe_detail.html", _groupe_context(request, groupe, bound))


def _to_groupe(pk, anchor):
    return redirect(reverse("codev:groupe", args=[pk]) + f"#{anchor}")


def _groupe_for(user, pk):
    return get_object_or_404(groupes_of(user).select_related("structure", "animateur"), pk=pk)


@login_required
def groupe_detail(request, pk):
    return _groupe_page(request, _groupe_for(request.user, pk))


@login_required
@require_POST
def membre_add(request, pk):
    groupe = get_object_or_404(_animated(request.user).select_related("structure"), pk=pk)
    form = AddMemberForm(request.POST, action=reverse("codev:membre_add", args=[groupe.pk]))
    if form.is_valid():
        try:
            membre = services.add_member_by_email(groupe, form.cleaned_data["email"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{membre.cadre} a rejoint le groupe.")
            return _to_groupe(groupe.pk, "membres")
    return _groupe_page(request, groupe, bound={"add": form})


@login_required
@require_POST
def membre_remove(request, pk):
    membre = get_object_or_404(
        Membre.objects.select_related("groupe", "cadre"),
        pk=pk,
        groupe__animateur=request.user,
        date_sortie__isnull=True,
    )
    services.remove_member(membre)
    messages.success(
        request,
        f"{membre.cadre} a quitté le groupe. Les séances à venir dont il ou elle devait être "
        "client ont un nouveau client.",
    )
    return _to_groupe(membre.groupe_id, "membres")


@login_required
@require_POST
def cycle_generate(request, pk):
    groupe = get_object_or_404(_animated(request.user), pk=pk)
    try:
        seances = services.generate_cycle(groupe)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, f"Le cycle n'est pas planifié : {message}")
    else:
        first, last = (timezone.localtime(s.debut) for s in (seances[0], seances[-1]))
        messages.success(
            request,
            f"{len(seances)} séance(s) planifiée(s), du {first:%d/%m/%Y} au {last:%d/%m/%Y}, "
            "chacune avec son client. Les membres reçoivent un rappel avant chaque séance.",
        )
    return _to_groupe(groupe.pk, "seances")


def _animated_seance(user, pk):
    return get_object_or_404(
        Seance.objects.select_related("groupe__structure", "groupe__animateur"),
        pk=pk,
        groupe__animateur=user,
    )


@login_required
@require_POST
def seance_client(request, pk):
    seance = _animated_seance(request.user, pk)
    membres = list(seance.groupe.membres.actifs(on=seance.jour).select_related("cadre"))
    form = ClientForm(
        request.POST,
        membres=membres,
        auto_id=f"id_client_{seance.pk}_%s",
        action=reverse("codev:seance_client", args=[seance.pk]),
    )
    if form.is_valid():
        membre = next(m for m in membres if m.pk == form.cleaned_data["membre"])
        try:
            services.set_client(seance, membre)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, f"{membre.cadre} sera client de la séance n° {seance.numero}."
            )
            return _to_groupe(seance.groupe_id, f"seance-{seance.pk}")
    return _groupe_page(request, seance.groupe, bound={("client", seance.pk): form})


@login_required
@require_POST
def seance_reschedule(request, pk):
    seance = _animated_seance(request.user, pk)
    form = RescheduleForm(
        request.POST,
        auto_id=f"id_date_{seance.pk}_%s",
        action=reverse("codev:seance_reschedule", args=[seance.pk]),
    )
    if form.is_valid():
        try:
            seance = services.reschedule(seance, form.cleaned_data["debut"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Séance n° {seance.numero} déplacée au "
                f"{timezone.localtime(seance.debut):%d/%m/%Y à %H:%M}. "
                "Les rappels et les agendas des participants suivent.",
            )
            return _to_groupe(seance.groupe_id, f"seance-{seance.pk}")
    return _groupe_page(request, seance.groupe, bound={("reschedule", seance.pk): form})


# --- The runner ----------------------------------------------------------------


PHASE_HINTS = {
    Phase.OUVERTURE: "Chacun dit en quelques mots comment il arrive ; le client de la séance "
    "précédente rend compte de ce qu'il a fait de son plan d'action.",
    Phase.EXPOSE: "Le client présente sa situation, son problème ou son projet ; les "
    "consultants écoutent sans l'interrompre.",
    Phase.CLARIFICATION: "Les consultants posent des questions d'information pour bien "
    "comprendre la situation ; le client y répond. Pas encore de conseils.",
    Phase.CONTRAT: "Le client formule sa demande au groupe et le type de consultation qu'il "
    "attend.",
    Phase.EXPLORATION: "Les consultants partagent impressions, idées et suggestions ; le "
    "client écoute et prend des notes, sans se justifier.",
    Phase.SYNTHESE: "Le client dit ce qu'il retient et construit son plan d'action ; les "
    "consultants résument ce qu'ils ont appris.",
    Phase.APPRENTISSAGE: "Chacun énonce ses apprentissages ; le groupe évalue la séance et "
    "sa manière de travailler (régulation).",
}


def _runner_seance(user, pk):
    return get_object_or_404(
        Seance.objects.select_related(
            "groupe__structure", "groupe__animateur", "client__cadre", "plan_action"
        ),
        pk=pk,
        groupe__animateur=user,
    )


def _plan_of(seance):
    try:
        return seance.plan_action
    except PlanAction.DoesNotExist:
        return None


def _remaining(delta_seconds):
    """``mm:ss`` (``h:mm:ss`` beyond an hour) of a duration, as the countdown shows it."""
    seconds = math.ceil(delta_seconds) if delta_seconds > 0 else math.floor(-delta_seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def _runner_context(request, seance, bound=None):
    bound = bound or {}
    now = timezone.now()
    groupe = seance.groupe
    membres = list(
        groupe.membres.actifs(on=seance.jour).select_related("cadre").order_by("date_entree", "pk")
    )
    presences = {p.membre_id: p.present for p in seance.presences.all()}
    # Until attendance is taken, everyone expected is counted in.
    presents = [m for m in membres if presences.get(m.pk, True)]
    apprentissages = {a.membre_id: a.texte for a in seance.apprentissages.all()}
    plan = _plan_of(seance)
    durations = seance.phase_minutes()
    index = seance.phase_index
    closed = seance.terminee_le is not None
    action = {
        name: reverse(f"codev:seance_{name}", args=[seance.pk])
        for name in (
            "phase",
            "presences",
            "probleme",
            "contrat",
            "plan",
            "suivi",
            "apprentissages",
            "regulation",
            "pause",
        )
    }
    steps = [
        {
            "label": phase.label,
            "minutes": durations[phase.value],
            "state": "done" if closed or i < index else "current" if i == index else "todo",
        }
        for i, phase in enumerate(PHASES)
    ]
    context = {
        "page_title": f"Séance n° {seance.numero} – {groupe.nom}",
        "crumb": f"Séance n° {seance.numero}",
        "seance": seance,
        "groupe": groupe,
        "client": seance.client,
        "consultants": [
            {"membre": m, "absent": presences.get(m.pk) is False}
            for m in membres
            if m.pk != seance.client_id
        ],
        "steps": steps,
        "nb_steps": len(PHASES),
        "step_number": index + 1,
        "phase_label": Phase(seance.phase).label if seance.phase else "",
        "next_label": PHASES[index + 1].label if 0 <= index < len(PHASES) - 1 else "",
        "closed": closed,
        "cancelled": seance.statut == Seance.Statut.ANNULEE,
        "phase_url": action["phase"],
        "plan": plan,
        "apprentissages": [
            {"membre": m, "texte": apprentissages[m.pk]} for m in membres if m.pk in apprentissages
        ],
        "attendance_taken": bool(presences),
        "nb_presents": sum(1 for m in membres if presences.get(m.pk)),
        "nb_membres": len(membres),
        "total_minutes": sum(durations.values()),
    }
    if seance.phase and not closed:
        # While paused, the clocks show the time left when the pause began.
        paused = seance.en_pause_depuis
        clock = paused or now
        fin, fin_seance = seance.phase_fin(), seance.fin_prevue()
        left = (fin - clock).total_seconds()
        context.update(
            phase_end=fin.isoformat(timespec="milliseconds"),
            seance_end=fin_seance.isoformat(timespec="milliseconds") if fin_seance else "",
            server_now=clock.isoformat(timespec="milliseconds"),
            paused=bool(paused),
            pause_url=action["pause"],
            phase_hint=PHASE_HINTS[Phase(seance.phase)],
            phase_minutes=durations[seance.phase],
            overrun=left < 0,
            remaining=_remaining(left),
        )
        if fin_seance:
            left_overall = (fin_seance - clock).total_seconds()
            context.update(
                overall_overrun=left_overall < 0, overall_remaining=_remaining(left_overall)
            )
    if closed or context["cancelled"]:
        button = None
    elif index < 0:
        button = "Commencer la séance"
    elif index == len(PHASES) - 1:
        button = "Clore la séance"
    else:
        button = "Phase suivante"
    context["button"] = button
    context["next_form"] = NextPhaseForm(initial={"depuis": seance.phase})

    if not context["cancelled"]:
        context["attendance_form"] = bound.get("presences") or AttendanceForm(
            initial={"presents": [m.pk for m in membres if presences.get(m.pk, not presences)]},
            membres=membres,
            action=action["presences"],
        )
    if closed:
        figures = services.evaluation_figures(Seance.objects.filter(pk=seance.pk))
        context["evaluation"] = figures["seances"].get(seance.pk, {"reponses": 0})
        context["min_reponses"] = services.MIN_ANSWERS
        return context
    # The forms of the current phase only; what is saved stays visible below.
    phase = seance.phase
    if phase == Phase.OUVERTURE:
        previous = services.previous_plan(seance)
        context["previous_plan"] = previous
        if previous is not None:
            context["suivi_form"] = bound.get("suivi") or SuiviForm(
                initial={"suivi": previous.suivi}, action=action["suivi"]
            )
    elif phase == Phase.EXPOSE:
        context["probleme_form"] = bound.get("probleme") or ProblemeForm(
            initial={"probleme": seance.probleme}, action=action["probleme"]
        )
    elif phase == Phase.CONTRAT:
        context["contrat_form"] = bound.get("contrat") or ContratForm(
            initial={"consultation": seance.consultation, "contrat": seance.contrat},
            action=action["contrat"],
        )
    elif phase == Phase.SYNTHESE:
        context["plan_form"] = bound.get("plan") or PlanForm(
            initial={"actions": plan.actions if plan else ""}, action=action["plan"]
        )
    elif phase == Phase.APPRENTISSAGE:
        context["learnings_form"] = bound.get("apprentissages") or LearningsForm(
            initial={f"membre_{pk}": texte for pk, texte in apprentissages.items()},
            membres=presents,
            action=action["apprentissages"],
        )
        context["regulation_form"] = bound.get("regulation") or RegulationForm(
            initial={"note_regulation": seance.note_regulation}, action=action["regulation"]
        )
    return context


def _runner_page(request, seance, bound=None):
    return render(request, "codev/seance.html", _runner_context(request, seance, bound))


def _back_to_runner(seance, anchor=""):
    return redirect(reverse("codev:seance", args=[seance.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
def seance_runner(request, pk):
    return _runner_page(request, _runner_seance(request.user, pk))


@login_required
@require_POST
def seance_pause(request, pk):
    """Pause the countdowns, or resume them (the button says which)."""
    seance = _runner_seance(request.user, pk)
    try:
        if request.POST.get("reprendre"):
            services.resume(seance)
            messages.info(request, "La séance reprend : le compte à rebours repart.")
        else:
            services.pause(seance)
            messages.info(request, "Séance en pause : le compte à rebours est arrêté.")
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    return _back_to_runner(seance)


@login_required
@require_POST
def seance_phase(request, pk):
    """Start the séance, go to the next phase or close it; the state lives in the
    database, so a reload (or another device) resumes the same phase and timer."""
    seance = _runner_seance(request.user, pk)
    form = NextPhaseForm(request.POST)
    depuis = form.cleaned_data["depuis"] if form.is_valid() else None
    if depuis != seance.phase:
        current = Phase(seance.phase).label if seance.phase else "avant le début"
        messages.warning(
            request,
            f"La séance avait déjà changé de phase (ouverte sur un autre écran ?) : "
            f"elle est à la phase « {current} ».",
        )
        return _back_to_runner(seance)
    try:
        seance = services.next_phase(seance)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    else:
        if seance.terminee_le:
            messages.success(
                request,
                f"Séance n° {seance.numero} close. Son plan d'action sera suivi au tour "
                "d'ouverture de la séance suivante.",
            )
    return _back_to_runner(seance)


def _phase_is(request, seance, phase):
    """Content of a phase is recorded while the séance is at that phase."""
    if seance.phase == phase and not seance.terminee_le:
        return True
    messages.error(
        request,
        f"La séance n'est pas à la phase « {Phase(phase).label} » : rien n'a été enregistré.",
    )
    return False


@login_required
@require_POST
def seance_presences(request, pk):
    seance = _runner_seance(request.user, pk)
    if seance.statut == Seance.Statut.ANNULEE:
        messages.error(request, "Cette séance est annulée : il n'y a pas de présence à relever.")
        return _back_to_runner(seance)
    membres = list(seance.groupe.membres.actifs(on=seance.jour).select_related("cadre"))
    form = AttendanceForm(
        request.POST, membres=membres, action=reverse("codev:seance_presences", args=[pk])
    )
    if not form.is_valid():
        return _runner_page(request, seance, bound={"presences": form})
    present = set(form.cleaned_data["presents"])
    services.record_attendance(seance, present)
    messages.success(
        request, f"Présence enregistrée : {len(present)} présent(s) sur {len(membres)}."
    )
    return _back_to_runner(seance, "presence")


@login_required
@require_POST
def seance_probleme(request, pk):
    seance = _runner_seance(request.user, pk)
    if not _phase_is(request, seance, Phase.EXPOSE):
        return _back_to_runner(seance)
    form = ProblemeForm(request.POST, action=reverse("codev:seance_probleme", args=[pk]))
    if not form.is_valid():
        return _runner_page(request, seance, bound={"probleme": form})
    services.record_content(seance, probleme=form.cleaned_data["probleme"].strip())
    messages.success(request, "Exposé du client enregistré.")
    return _back_to_runner(seance, "phase-en-cours")


@login_required
@require_POST
def seance_contrat(request, pk):
    seance = _runner_seance(request.user, pk)
    if not _phase_is(request, seance, Phase.CONTRAT):
        return _back_to_runner(seance)
    form = ContratForm(request.POST, action=reverse("codev:seance_contrat", args=[pk]))
    if not form.is_valid():
        return _runner_page(request, seance, bound={"contrat": form})
    services.record_content(
        seance,
        consultation=form.cleaned_data["consultation"],
        contrat=form.cleaned_data["contrat"].strip(),
    )
    messages.success(request, "Contrat enregistré.")
    return _back_to_runner(seance, "phase-en-cours")


@login_required
@require_POST
def seance_plan(request, pk):
    seance = _runner_seance(request.user, pk)
    if not _phase_is(request, seance, Phase.SYNTHESE):
        return _back_to_runner(seance)
    form = PlanForm(request.POST, action=reverse("codev:seance_plan", args=[pk]))
    if form.is_valid():
        try:
            services.record_plan(seance, form.cleaned_data["actions"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Plan d'action enregistré : le client le retrouve dans son espace, et le "
                "groupe en fera le suivi à la prochaine séance.",
            )
            return _back_to_runner(seance, "phase-en-cours")
    return _runner_page(request, seance, bound={"plan": form})


@login_required
@require_POST
def seance_suivi(request, pk):
    seance = _runner_seance(request.user, pk)
    if not _phase_is(request, seance, Phase.OUVERTURE):
        return _back_to_runner(seance)
    previous = services.previous_plan(seance)
    if previous is None:
        messages.error(request, "Aucun plan d'action d'une séance précédente à suivre.")
        return _back_to_runner(seance)
    form = SuiviForm(request.POST, action=reverse("codev:seance_suivi", args=[pk]))
    if not form.is_valid():
        return _runner_page(request, seance, bound={"suivi": form})
    services.record_followup(previous, form.cleaned_data["suivi"])
    messages.success(request, f"Suivi du plan d'action de {previous.membre} enregistré.")
    return _back_to_runner(seance, "phase-en-cours")


@login_required
@require_POST
def seance_apprentissages(request, pk):
    seance = _runner_seance(request.user, pk)
    if not _phase_is(request, seance, Phase.APPRENTISSAGE):
        return _back_to_runner(seance)
    membres = list(seance.groupe.membres.actifs(on=seance.jour).select_related("cadre"))
    absents = set(seance.presences.filter(present=False).values_list("membre_id", flat=True))
    presents = [m for m in membres if m.pk not in absents]
    form = LearningsForm(
        request.POST,
        membres=presents,
        action=reverse("codev:seance_apprentissages", args=[pk]),
    )
    if not form.is_valid():
        return _runner_page(request, seance, bound={"apprentissages": form})
    by_pk = {m.pk: m for m in presents}
    texts = form.texts()
    for membre_pk, texte in texts:
        services.record_learning(seance, by_pk[membre_pk], texte)
    messages.success(request, f"Apprentissages enregistrés ({len(texts)}).")
    return _back_to_runner(seance, "phase-en-cours")


@login_required
@require_POST
def seance_regulation(request, pk):
    seance = _runner_seance(request.user, pk)
    if not _phase_is(request, seance, Phase.APPRENTISSAGE):
        return _back_to_runner(seance)
    form = RegulationForm(request.POST, action=reverse("codev:seance_regulation", args=[pk]))
    if not form.is_valid():
        return _runner_page(request, seance, bound={"regulation": form})
    services.record_content(seance, note_regulation=form.cleaned_data["note_regulation"])
    messages.success(request, "Appréciation du groupe enregistrée.")
    return _back_to_runner(seance, "regulation")


# --- The four-A evaluation (members) ---------------------------------------------


@login_required
def seance_evaluation(request, pk):
    """A member present at the séance answers the four A, once, anonymously."""
    seance = get_object_or_404(
        Seance.objects.select_related("groupe")
        .filter(groupe__membres__cadre__user=request.user)
        .distinct(),
        pk=pk,
    )
    membre = seance.groupe.membres.select_related("cadre").get(cadre__user=request.user)
    done = EvaluationRendue.objects.filter(seance=seance, membre=membre).exists()
    allowed = services.may_evaluate(seance, membre)
    is_open = services.evaluation_open(seance)
    form = None
    if allowed and is_open and not done:
        form = EvaluationForm(
            request.POST or None, action=reverse("codev:seance_evaluation", args=[pk])
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.answer_evaluation(seance, membre, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    "Merci : votre réponse anonyme est enregistrée. L'animateur ne voit que "
                    "les résultats d'ensemble.",
                )
                return _to_groupe(seance.groupe_id, f"seance-{seance.pk}")
    elif request.method == "POST":
        messages.error(request, "Votre réponse n'a pas été enregistrée.")
    return render(
        request,
        "codev/seance_evaluation.html",
        {
            "page_title": f"Évaluer la séance n° {seance.numero} – {seance.groupe.nom}",
            "crumb": f"Évaluer la séance n° {seance.numero}",
            "seance": seance,
            "groupe": seance.groupe,
            "form": form,
            "done": done,
            "allowed": allowed,
            "is_open": is_open,
            "fenetre_jours": services.EVALUATION_WINDOW.days,
            "min_reponses": services.MIN_ANSWERS,
        },
    )
