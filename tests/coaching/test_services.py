"""Coaching rules through their services: engagements opened from a request, the
status workflow, capacity and conflicts of interest, coach suggestions, sessions,
confidentiality of the coach's notes, the registry entry and the demo data."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from accompagnement import registry
from accompagnement.models import Demande, Evaluation, Mode, Notification
from accompagnement.services import demandes
from accompagnement.services.demandes import decide
from coaching import scheme as coaching_scheme
from coaching import services
from coaching.models import Certification, Coach, Coaching, NoteCoach, SeanceCoaching, Specialite
from tests.concurrency import race
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
)

S = Coaching.Statut
SEANCE = SeanceCoaching.Statut

# The workflow of the issue, written apart from the code under test.
ALLOWED = {
    (S.A_AFFECTER, S.CONTRACTUALISE),
    (S.A_AFFECTER, S.INTERROMPU),
    (S.CONTRACTUALISE, S.EN_COURS),
    (S.CONTRACTUALISE, S.INTERROMPU),
    (S.EN_COURS, S.TERMINE),
    (S.EN_COURS, S.INTERROMPU),
}
ALL_PAIRS = [(a, b) for a in S for b in S if a != b]


# --- Helpers and fixtures ---------------------------------------------------------


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def cadre(m):
    """A cadre with an account, in the service of ministry A."""
    return make_cadre_user(structure=m["a_srv"], nom="Martin", prenom="Claire")


@pytest.fixture
def coach(db):
    """An external coach with an account."""
    return CoachFactory(
        nom="Lefèvre", prenom="Hugo", user=UserFactory(email="hugo.lefevre@cabinet.example.fr")
    )


@pytest.fixture(autouse=True)
def reminders(settings):
    """Two reminders per session, a week and a day before, whatever the environment."""
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


@pytest.fixture
def contracted(cadre, coach):
    """A coaching of ``cadre`` given to ``coach`` through the service."""
    return services.assign(CoachingFactory(cadre=cadre), coach)


def in_days(days, hour=10):
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def messages(excinfo):
    return " ".join(excinfo.value.messages)


def outbox_rows(target, **filters):
    return Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(target), object_id=target.pk, **filters
    )


def internal_coach(structure, **kwargs):
    kwargs.setdefault("organisme", "")
    return CoachFactory(type=Coach.Type.INTERNE, structure=structure, **kwargs)


def schedule(coaching, days=10, **kwargs):
    kwargs.setdefault("mode", Mode.PRESENTIEL)
    kwargs.setdefault("lieu", "Salle 204, 139 rue de Bercy, Paris")
    return services.schedule(coaching, debut=in_days(days), **kwargs)


def move_to_past(seance, days=2):
    """Sessions cannot be planned in the past: put one there as time would."""
    SeanceCoaching.objects.filter(pk=seance.pk).update(debut=timezone.now() - timedelta(days=days))
    seance.refresh_from_db()
    return seance


# --- 1. From a request ------------------------------------------------------------


@pytest.mark.parametrize(
    "contexte, origine, motif, origine_coaching",
    [
        (Demande.Contexte.PRISE_DE_POSTE, "cadre", "prise_de_poste", "cadre"),
        (Demande.Contexte.DIFFICULTE, "cadre", "difficulte", "cadre"),
        (Demande.Contexte.TRANSFORMATION, "administration", "transformation", "administration"),
        (Demande.Contexte.DEBOUCHE, "administration", "debouche", "administration"),
    ],
)
def test_accepted_request_opens_a_coaching_to_assign(
    m, cadre, contexte, origine, motif, origine_coaching
):
    start = timezone.localdate() + timedelta(days=30)
    demande = demandes.submit(
        cadre,
        dispositif="coaching",
        contexte=contexte,
        motivation="Je prends la direction d'un service de 120 agents.",
        by=cadre.user,
        origine=origine,
        date_debut_souhaitee=start,
    )

    demande = decide(demande, "acceptee", by=m["delegue_a"])

    coaching = Coaching.objects.get(demande=demande)
    assert coaching.cadre == cadre
    assert coaching.statut == S.A_AFFECTER
    assert coaching.coach is None
    assert coaching.origine == origine_coaching
    assert coaching.motif == motif
    assert coaching.date_debut == start
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.ACCEPTEE
    assert demande.programme == coaching
    assert demande.decidee_par == m["delegue_a"]


def test_refused_request_opens_no_coaching(m, cadre):
    demande = demandes.submit(
        cadre,
        dispositif="coaching",
        contexte=Demande.Contexte.PRISE_DE_POSTE,
        motivation="Prise de poste.",
        by=cadre.user,
    )
    decide(demande, "refusee", motif="Budget de l'année épuisé.", by=m["delegue_a"])
    assert not Coaching.objects.exists()


# --- 2. Transitions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "current, new", ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS]
)
def test_status_transitions(cadre, coach, current, new):
    # Every precondition met (coach, closing meeting): only the workflow decides.
    coaching = CoachingFactory(
        cadre=cadre,
        coach=coach,
        statut=current,
        reunion_cloture_le=timezone.localdate(),
    )
    if (current, new) in ALLOWED:
        services.change_status(coaching, new)
        coaching.refresh_from_db()
        assert coaching.statut == new
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.change_status(coaching, new)
        assert "ne peut pas passer" in messages(excinfo)
        assert excinfo.value.message_dict["statut"] == [
            f"Un coaching « {current.label.lower()} » ne peut pas passer "
            f"au statut « {new.label.lower()} »."
        ]
        coaching.refresh_from_db()
        assert coaching.statut == current


def test_allowed_table_is_the_models(cadre):
    """The table above is exactly what the model allows (no extra way out)."""
    declared = {(a, b) for a, targets in Coaching.TRANSITIONS.items() for b in targets}
    assert declared == ALLOWED


def test_same_status_is_no_change(contracted):
    before = Coaching.objects.get(pk=contracted.pk)
    services.change_status(contracted, S.CONTRACTUALISE)
    after = Coaching.objects.get(pk=contracted.pk)
    assert after.statut == S.CONTRACTUALISE and after.date_fin == before.date_fin


def test_contracting_needs_a_coach(cadre):
    coaching = CoachingFactory(cadre=cadre)
    with pytest.raises(ValidationError) as excinfo:
        services.change_status(coaching, S.CONTRACTUALISE)
    assert excinfo.value.message_dict["statut"] == ["Affectez un coach avant de contractualiser."]
    coaching.refresh_from_db()
    assert coaching.statut == S.A_AFFECTER


def test_contracting_a_preset_coach_respects_capacity(cadre):
    """A coach written on the engagement beforehand is still checked on contracting."""
    full = CoachFactory(capacite=1)
    CoachingFactory(coach=full, statut=S.EN_COURS)
    coaching = CoachingFactory(cadre=cadre, coach=full)
    with pytest.raises(ValidationError) as excinfo:
        services.change_status(coaching, S.CONTRACTUALISE)
    assert "capacité" in messages(excinfo)
    coaching.refresh_from_db()
    assert coaching.statut == S.A_AFFECTER


def test_ending_needs_the_closing_meeting(contracted):
    services.change_status(contracted, S.EN_COURS)
    with pytest.raises(ValidationError) as excinfo:
        services.change_status(contracted, S.TERMINE)
    assert excinfo.value.message_dict["reunion_cloture_le"] == [
        "Un coaching se termine par une réunion tripartite de clôture : indiquez sa date."
    ]
    contracted.refresh_from_db()
    assert contracted.statut == S.EN_COURS
    assert not Evaluation.objects.exists()


def test_ending_asks_evaluations_and_cancels_future_sessions(cadre, coach, contracted):
    held = schedule(contracted, days=3)
    held = services.mark(move_to_past(held), SEANCE.REALISEE)
    past_planned = move_to_past(schedule(contracted, days=4), days=1)
    future = [schedule(contracted, days=8), schedule(contracted, days=15)]
    contracted.refresh_from_db()
    assert contracted.statut == S.EN_COURS
    closing = timezone.localdate()

    services.change_status(contracted, S.TERMINE, by=None, reunion_cloture_le=closing)

    contracted.refresh_from_db()
    assert contracted.statut == S.TERMINE
    assert contracted.reunion_cloture_le == closing
    assert contracted.date_fin == timezone.localdate()

    # One questionnaire for the cadre and one for the coach, each announced by mail.
    evaluations = Evaluation.objects.filter(
        programme_type=ContentType.objects.get_for_model(Coaching), programme_id=contracted.pk
    )
    assert {e.participant for e in evaluations} == {cadre.user, coach.user}
    assert {e.dispositif for e in evaluations} == {"coaching"}
    assert {e.cadre for e in evaluations} == {cadre}
    for evaluation in evaluations:
        asked = outbox_rows(evaluation, kind="evaluation_demandee")
        assert list(asked.values_list("email", flat=True)) == [evaluation.participant.email]

    # Future planned sessions are cancelled, their participants told, reminders gone.
    for seance in future:
        seance.refresh_from_db()
        assert seance.statut == SEANCE.ANNULEE
        cancellations = outbox_rows(seance, kind="session_annulation", statut="en_attente")
        assert set(cancellations.values_list("email", flat=True)) == {
            cadre.user.email,
            coach.user.email,
        }
        assert not outbox_rows(seance, kind__startswith="session_rappel_", statut="en_attente")
    # What happened stays as it was.
    held.refresh_from_db()
    past_planned.refresh_from_db()
    assert held.statut == SEANCE.REALISEE
    assert past_planned.statut == SEANCE.PLANIFIEE
    assert not outbox_rows(held, kind="session_annulation").exists()


def test_ending_twice_asks_the_evaluations_once(contracted):
    services.change_status(contracted, S.EN_COURS)
    services.change_status(contracted, S.TERMINE, reunion_cloture_le=timezone.localdate())
    services.change_status(contracted, S.TERMINE, reunion_cloture_le=timezone.localdate())
    assert Evaluation.objects.count() == 2
    assert Notification.objects.filter(kind="evaluation_demandee").count() == 2


@pytest.mark.parametrize("current", [S.A_AFFECTER, S.CONTRACTUALISE, S.EN_COURS])
def test_interrupting_an_open_coaching_cancels_its_future_sessions(cadre, coach, current):
    coaching = CoachingFactory(cadre=cadre, coach=coach, statut=S.CONTRACTUALISE)
    seance = schedule(coaching, days=12)
    Coaching.objects.filter(pk=coaching.pk).update(statut=current)

    services.change_status(coaching, S.INTERROMPU)

    coaching.refresh_from_db()
    seance.refresh_from_db()
    assert coaching.statut == S.INTERROMPU
    assert coaching.date_fin == timezone.localdate()
    assert seance.statut == SEANCE.ANNULEE
    assert outbox_rows(seance, kind="session_annulation").count() == 2
    assert not Evaluation.objects.exists()  # an interruption is not an ending


# --- 3. Capacity and conflicts of interest ---------------------------------------


def test_assign_contracts_and_tells_the_coach(cadre, coach):
    coaching = CoachingFactory(cadre=cadre)
    services.assign(coaching, coach)
    coaching.refresh_from_db()
    assert coaching.coach == coach
    assert coaching.statut == S.CONTRACTUALISE
    told = outbox_rows(coaching, kind="coaching_affecte")
    assert list(told.values_list("email", flat=True)) == [coach.user.email]


def test_coach_at_capacity_is_refused(cadre):
    coach = CoachFactory(nom="Plein", prenom="Jean", capacite=2)
    CoachingFactory(coach=coach, statut=S.CONTRACTUALISE)
    CoachingFactory(coach=coach, statut=S.EN_COURS)
    coaching = CoachingFactory(cadre=cadre)
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching, coach)
    assert excinfo.value.message_dict["coach"] == [
        "Jean PLEIN accompagne déjà 2 cadre(s) pour une capacité de 2 : affectation refusée."
    ]
    assert "capacité" in messages(excinfo)
    coaching.refresh_from_db()
    assert coaching.coach is None and coaching.statut == S.A_AFFECTER


def test_closed_coachings_free_their_place(cadre):
    coach = CoachFactory(capacite=1)
    CoachingFactory(coach=coach, statut=S.TERMINE)
    CoachingFactory(coach=coach, statut=S.INTERROMPU)
    coaching = services.assign(CoachingFactory(cadre=cadre), coach)
    assert coaching.statut == S.CONTRACTUALISE


def test_reassigning_the_same_coach_does_not_count_twice(cadre):
    coach = CoachFactory(capacite=1)
    coaching = services.assign(CoachingFactory(cadre=cadre), coach)
    services.assign(coaching, coach)  # its own place is not taken by someone else
    assert Coach.objects.with_load().get(pk=coach.pk).charge == 1


def test_inactive_coach_is_refused(cadre):
    coach = CoachFactory(nom="Retraité", prenom="Paul", actif=False)
    coaching = CoachingFactory(cadre=cadre)
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching, coach)
    assert excinfo.value.message_dict["coach"] == [
        "Paul RETRAITÉ est inactif : ce coach ne peut pas être affecté."
    ]
    assert "inactif" in messages(excinfo)


@pytest.mark.parametrize("where", ["a_srv", "a_dir", "a", "child"])
def test_internal_coach_in_the_cadres_line_is_refused(m, cadre, where):
    structure = (
        StructureFactory(nom="Bureau A1-1-a", sigle="BA", parent=m["a_srv"], type="bureau")
        if where == "child"
        else m[where]
    )
    coach = internal_coach(structure)
    coaching = CoachingFactory(cadre=cadre)
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching, coach)
    assert "ligne hiérarchique" in messages(excinfo)
    assert f"{coach} travaille dans la ligne hiérarchique de {cadre}" in messages(excinfo)
    coaching.refresh_from_db()
    assert coaching.coach is None


def test_internal_coach_from_another_ministry_is_accepted(m, cadre):
    coach = internal_coach(m["b"])
    coaching = services.assign(CoachingFactory(cadre=cadre), coach)
    coaching.refresh_from_db()
    assert coaching.coach == coach and coaching.statut == S.CONTRACTUALISE


def test_coach_of_a_running_coaching_cannot_be_changed(contracted):
    services.change_status(contracted, S.EN_COURS)
    with pytest.raises(ValidationError) as excinfo:
        services.assign(contracted, CoachFactory())
    assert "ne peut plus être changé" in messages(excinfo)


@pytest.mark.django_db(transaction=True)
def test_two_delegues_take_the_last_place_at_once():
    coach = CoachFactory(capacite=2)
    CoachingFactory(coach=coach, statut=S.EN_COURS)
    coachings = [CoachingFactory(), CoachingFactory()]

    successes, refused = race(services.assign, [(c, coach) for c in coachings])

    assert len(successes) == 1 and len(refused) == 1
    succeeded = [successes[0][0].pk]
    assert "capacité" in " ".join(refused[0].messages)
    assert Coach.objects.with_load().get(pk=coach.pk).charge == coach.capacite == 2
    loser = next(c for c in coachings if c.pk not in succeeded)
    loser.refresh_from_db()
    assert loser.coach is None and loser.statut == S.A_AFFECTER


# --- 4. Suggestions ---------------------------------------------------------------


def test_suggestions_rank_the_fitting_coaches_with_their_reasons(m, cadre):
    today = timezone.localdate()
    transformation = Specialite.objects.get(code="transformation")
    prise_de_poste = Specialite.objects.get(code="prise_de_poste")

    def make(nom, specialites=(), certifications=(), active=0, **kwargs):
        kwargs["accreditation"] = False  # only those given here
        coach = (
            internal_coach(kwargs.pop("structure"), nom=nom, **kwargs)
            if "structure" in kwargs
            else CoachFactory(nom=nom, **kwargs)
        )
        coach.specialites.set(specialites)
        for organisme, niveau, expire_le in certifications:
            Certification.objects.create(
                coach=coach, organisme=organisme, niveau=niveau, expire_le=expire_le
            )
        for _ in range(active):
            CoachingFactory(coach=coach, statut=S.EN_COURS)
        return coach

    valid, expired = today + timedelta(days=365), today - timedelta(days=1)
    # speciality +3, free places up to +3; the accreditation is shown, not scored
    arnaud = make("Arnaud", [transformation], [("icf", "PCC", valid)], capacite=3)
    CoachingFactory(coach=arnaud, statut=S.TERMINE)  # closed: frees its place
    bertin = make(
        "Bertin",
        [transformation],
        [("icf", "ACC", expired), ("rncp", "Coach professionnel", None)],
        capacite=2,
        active=1,
    )  # 3 + 1 = 4 (the expired one is not listed)
    chevalier = make(
        "Chevalier", [prise_de_poste], [("emcc", "Senior Practitioner", valid)], active=1
    )  # 0 + 2 = 2
    dumas = make(
        "Dumas", [transformation], [("icf", "MCC", today)], capacite=2, structure=m["b"]
    )  # internal, other ministry, valid through today: 3 + 2 = 5
    # Left out: full, inactive, internal in the cadre's line, and barred by the register.
    plein = make("Plein", [transformation], [("icf", "MCC", valid)], capacite=1, active=1)
    inactif = make("Inactif", [transformation], [("icf", "MCC", valid)], actif=False)
    ligne = make("Ligne", [transformation], [("icf", "MCC", valid)], structure=m["a_dir"])
    expiree = make("Expiree", [transformation], [("icf", "PCC", expired)])
    sans_accreditation = make("Sans", [transformation])
    sans_charte = make(
        "Sanscharte", [transformation], [("icf", "MCC", valid)], charte_signee_le=None
    )
    coaching = CoachingFactory(cadre=cadre, motif=Coaching.Motif.TRANSFORMATION)

    suggestions = services.suggest(coaching)

    assert [s.coach for s in suggestions] == [arnaud, dumas, bertin, chevalier]
    assert [s.score for s in suggestions] == [6, 5, 4, 2]
    left_out = {plein, inactif, ligne, expiree, sans_accreditation, sans_charte}
    assert not left_out & {s.coach for s in suggestions}
    reasons = {s.coach.nom: s.reasons for s in suggestions}
    assert reasons["Arnaud"] == [
        "spécialité « accompagnement d'une transformation » (+3)",
        "3 place(s) libre(s) sur 3 (+3)",
        "accrédité ICF PCC",
    ]
    assert reasons["Dumas"] == [
        "spécialité « accompagnement d'une transformation » (+3)",
        "2 place(s) libre(s) sur 2 (+2)",
        "accrédité ICF MCC",
        "coach interne, hors de la ligne hiérarchique du cadre",
    ]
    assert reasons["Bertin"] == [
        "spécialité « accompagnement d'une transformation » (+3)",
        "1 place(s) libre(s) sur 2 (+1)",
        "accrédité RNCP Coach professionnel",
    ]
    assert reasons["Chevalier"] == [
        "2 place(s) libre(s) sur 3 (+2)",
        "accrédité EMCC Senior Practitioner",
    ]
    assert [s.coach for s in services.suggest(coaching, limit=2)] == [arnaud, dumas]
    # Every suggestion can really be assigned.
    for suggestion in suggestions:
        services.check_assignment(coaching, suggestion.coach)


# --- 5. Sessions ------------------------------------------------------------------


def test_sessions_wait_for_the_contract(cadre, coach):
    coaching = CoachingFactory(cadre=cadre, coach=coach)  # coach chosen, not contracted
    with pytest.raises(ValidationError) as excinfo:
        schedule(coaching)
    assert excinfo.value.messages == [
        "Des séances ne se planifient que pour un coaching contractualisé ou en cours."
    ]
    assert not SeanceCoaching.objects.exists()


@pytest.mark.parametrize("statut", [S.TERMINE, S.INTERROMPU])
def test_no_session_for_a_closed_coaching(cadre, coach, statut):
    coaching = CoachingFactory(cadre=cadre, coach=coach, statut=statut)
    with pytest.raises(ValidationError) as excinfo:
        schedule(coaching)
    assert "contractualisé ou en cours" in messages(excinfo)


def test_session_in_the_past_is_refused(contracted):
    with pytest.raises(ValidationError) as excinfo:
        services.schedule(
            contracted, debut=timezone.now() - timedelta(hours=1), mode=Mode.DISTANCIEL
        )
    assert excinfo.value.message_dict["debut"] == ["La séance doit être planifiée dans le futur."]


def test_sessions_are_numbered_and_bounded_by_the_allowance(contracted):
    Coaching.objects.filter(pk=contracted.pk).update(nb_seances_prevues=3)
    seances = [schedule(contracted, days=d) for d in (7, 14, 21)]
    assert [s.numero for s in seances] == [1, 2, 3]

    with pytest.raises(ValidationError) as excinfo:
        schedule(contracted, days=28)
    assert excinfo.value.messages == [
        "Les 3 séances du forfait sont toutes utilisées (réalisées ou planifiées) : une "
        "séance de plus demande que le délégué prolonge le forfait."
    ]

    # A cancelled session gives its place back; numbers keep going.
    services.mark(seances[1], SEANCE.ANNULEE)
    fourth = schedule(contracted, days=28)
    assert fourth.numero == 4
    with pytest.raises(ValidationError):
        schedule(contracted, days=35)
    assert contracted.seances.exclude(statut=SEANCE.ANNULEE).count() == 3


def test_scheduled_session_reminds_cadre_and_coach(cadre, coach, contracted):
    seance = schedule(contracted, days=10, duree=90)
    assert seance.statut == SEANCE.PLANIFIEE and seance.duree == 90
    rows = outbox_rows(seance, statut="en_attente")
    assert sorted(rows.values_list("kind", "email", "due_at")) == sorted(
        (kind, email, seance.debut - delay)
        for kind, delay in (
            ("session_rappel_j7", timedelta(days=7)),
            ("session_rappel_j1", timedelta(days=1)),
        )
        for email in (cadre.user.email, coach.user.email)
    )


def test_reminders_already_past_are_not_written(contracted):
    seance = schedule(contracted, days=3)  # the week-before reminder is already gone
    kinds = set(outbox_rows(seance).values_list("kind", flat=True))
    assert kinds == {"session_rappel_j1"}


def test_held_session_cannot_be_in_the_future(contracted):
    seance = schedule(contracted, days=5)
    with pytest.raises(ValidationError) as excinfo:
        services.mark(seance, SEANCE.REALISEE)
    assert excinfo.value.messages == ["Une séance ne peut pas être réalisée avant d'avoir eu lieu."]
    seance.refresh_from_db()
    assert seance.statut == SEANCE.PLANIFIEE


def test_first_held_session_starts_the_coaching(contracted):
    seance = move_to_past(schedule(contracted, days=5))
    services.mark(seance, SEANCE.REALISEE)
    seance.refresh_from_db()
    contracted.refresh_from_db()
    assert seance.statut == SEANCE.REALISEE
    assert contracted.statut == S.EN_COURS


def test_postponed_session_moves_with_its_reminders(cadre, coach, contracted):
    seance = schedule(contracted, days=10)
    old_debut, old_sequence = seance.debut, seance.sequence
    old_rows = set(outbox_rows(seance).values_list("pk", flat=True))
    assert len(old_rows) == 4
    new_debut = in_days(20, hour=14)

    moved = services.mark(seance, SEANCE.REPORTEE, debut=new_debut)

    moved.refresh_from_db()
    assert moved.pk == seance.pk
    assert SeanceCoaching.objects.filter(coaching=contracted).count() == 1
    assert moved.debut == new_debut
    assert moved.statut == SEANCE.PLANIFIEE
    assert moved.sequence == old_sequence + 1
    assert set(Notification.objects.filter(pk__in=old_rows).values_list("statut", flat=True)) == {
        "annulee"
    }
    pending = outbox_rows(moved, statut="en_attente")
    assert sorted(pending.values_list("kind", "email", "due_at")) == sorted(
        (kind, email, new_debut - delay)
        for kind, delay in (
            ("session_rappel_j7", timedelta(days=7)),
            ("session_rappel_j1", timedelta(days=1)),
        )
        for email in (cadre.user.email, coach.user.email)
    )
    assert old_debut != new_debut


@pytest.mark.parametrize("days", [None, -1])
def test_postponing_needs_a_future_date(contracted, days):
    seance = schedule(contracted, days=10)
    debut = None if days is None else timezone.now() + timedelta(days=days)
    with pytest.raises(ValidationError) as excinfo:
        services.mark(seance, SEANCE.REPORTEE, debut=debut)
    assert excinfo.value.message_dict["debut"] == ["Indiquez la nouvelle date, dans le futur."]


def test_cancelled_session_tells_both_participants(cadre, coach, contracted):
    seance = schedule(contracted, days=10)
    services.mark(seance, SEANCE.ANNULEE)
    assert set(outbox_rows(seance, kind="session_annulation").values_list("email", flat=True)) == {
        cadre.user.email,
        coach.user.email,
    }
    assert not outbox_rows(seance, kind__startswith="session_rappel_", statut="en_attente")


def test_cadre_asks_to_postpone_a_session(cadre, coach, contracted):
    seance = schedule(contracted, days=10)
    reminders_before = set(outbox_rows(seance, statut="en_attente").values_list("pk", flat=True))

    services.ask_postponement(
        seance, "  Comité de direction exceptionnel ce jour-là.  ", by=cadre.user
    )

    seance.refresh_from_db()
    assert seance.report_demande_le is not None
    assert seance.report_motif == "Comité de direction exceptionnel ce jour-là."
    assert seance.sequence == 0  # asking does not move the session
    assert seance.statut == SEANCE.PLANIFIEE
    asked = outbox_rows(seance, kind="coaching_report_demande")
    assert list(asked.values_list("email", flat=True)) == [coach.user.email]
    assert (
        set(
            outbox_rows(seance, statut="en_attente")
            .exclude(pk__in=asked)
            .values_list("pk", flat=True)
        )
        == reminders_before
    )


def test_postponement_needs_a_reason(cadre, contracted):
    seance = schedule(contracted, days=10)
    with pytest.raises(ValidationError) as excinfo:
        services.ask_postponement(seance, "   ", by=cadre.user)
    assert excinfo.value.message_dict["report_motif"] == [
        "Indiquez pourquoi vous demandez un report."
    ]
    seance.refresh_from_db()
    assert seance.report_demande_le is None
    assert not outbox_rows(seance, kind="coaching_report_demande").exists()


def test_past_session_cannot_be_postponed(cadre, contracted):
    seance = move_to_past(schedule(contracted, days=10))
    with pytest.raises(ValidationError) as excinfo:
        services.ask_postponement(seance, "Empêchement.", by=cadre.user)
    assert excinfo.value.messages == ["Seule une séance planifiée à venir peut être reportée."]
    assert not outbox_rows(seance, kind="coaching_report_demande").exists()


# --- 6. Confidentiality -------------------------------------------------------------

SECRET = "Confidence : tensions avec le directeur général, envisage de partir."


def test_coach_notes_have_no_admin_page():
    assert not admin.site.is_registered(NoteCoach)


def test_portal_cards_and_sessions_never_carry_the_notes(cadre, coach, contracted):
    seance = schedule(contracted, days=10)
    NoteCoach.objects.create(coaching=contracted, auteur=coach.user, texte=SECRET)

    for user in (cadre.user, coach.user):
        cards = [
            *coaching_scheme.programmes_for(user),
            *coaching_scheme.actions_for(user),
        ]
        assert cards
        for card in cards:
            assert SECRET not in repr(card)
        seances, entretiens = coaching_scheme.sessions_for(user)
        assert list(seances) == [seance] and not entretiens.exists()
        for session in seances:
            assert SECRET not in repr(model_to_dict(session))
            assert SECRET not in session.titre_agenda()
        assert SECRET not in repr(list(seances.values()))


# --- 7. The registry --------------------------------------------------------------


def test_registry_serves_the_real_coaching_scheme():
    entry = registry.get("coaching")
    assert entry is coaching_scheme.SCHEME
    assert entry.create_programme is services.create_from_demande
    assert SeanceCoaching in entry.session_models


def test_cards_for_cadre_and_coach(cadre, coach, contracted):
    entry = registry.get("coaching")
    first = move_to_past(schedule(contracted, days=3))
    services.mark(first, SEANCE.REALISEE)
    schedule(contracted, days=10)
    url = reverse("coaching:detail", args=[contracted.pk])

    (card,) = entry.programmes_for(cadre.user)
    assert card.dispositif == "coaching"
    assert card.titre == "Mon coaching"
    assert card.statut == "En cours"
    assert card.url == url
    assert card.detail == f"Coach : {coach} · 1 séance(s) réalisée(s) sur 6"

    (card,) = entry.programmes_for(coach.user)
    assert card.titre == f"Coaching de {cadre}"
    assert card.statut == "En cours"
    assert card.url == url
    assert card.detail == "1 séance(s) réalisée(s) sur 6"

    assert entry.programmes_for(UserFactory()) == []


def test_interrupted_coaching_leaves_the_portal_home(cadre, contracted):
    services.change_status(contracted, S.INTERROMPU)
    assert registry.get("coaching").programmes_for(cadre.user) == []


def test_coach_sees_postponement_requests_as_actions(cadre, coach, contracted):
    entry = registry.get("coaching")
    schedule(contracted, days=7)
    seance = schedule(contracted, days=14)
    assert entry.actions_for(coach.user) == []

    services.ask_postponement(seance, "Déplacement en préfecture.", by=cadre.user)

    (action,) = entry.actions_for(coach.user)
    assert action.titre == f"Report demandé par {cadre} (séance n° 2)"
    assert action.detail == "Déplacement en préfecture."
    assert action.url == reverse("coaching:detail", args=[contracted.pk])
    assert entry.actions_for(cadre.user) == []

    # Once the coach moves the session, the request is answered.
    services.mark(seance, SEANCE.REPORTEE, debut=in_days(21))
    assert entry.actions_for(coach.user) == []


# --- 8. Demo data -----------------------------------------------------------------


@pytest.mark.usefixtures("fast_password_hasher")
def test_seed_demo_twice_creates_the_demo_coaching_once(db):
    for _ in range(2):
        call_command("seed_demo", stdout=StringIO())

    coaching = Coaching.objects.select_related("cadre__user", "coach__user").get(
        cadre__email="cadre@demo.gouv.fr"
    )
    assert coaching.cadre.user.email == "cadre@demo.gouv.fr"
    assert coaching.coach.email == "coach@demo.gouv.fr"
    assert coaching.coach.user.email == "coach@demo.gouv.fr"
    assert coaching.statut == S.EN_COURS
    assert coaching.seances.count() == 3
    assert Coach.objects.count() == 3
    # The register shows an accreditation expiring soon; one engagement waits at the
    # shortlist stage, in the Intérieur délégué's perimeter.
    assert list(Coach.objects.accreditation_expiring()) == [Coach.objects.get(nom="Mercier")]
    assert Coach.objects.eligible().count() == 3
    shortlisted = Coaching.objects.exclude(pk=coaching.pk).get()
    assert shortlisted.statut == S.A_AFFECTER
    (preselection,) = shortlisted.preselections.all()
    assert preselection.statut == "proposee" and preselection.propositions.count() == 2
    assert preselection.proposee_par.email == "delegue.interieur@demo.gouv.fr"
    (card,) = registry.get("coaching").programmes_for(coaching.cadre.user)
    assert card.detail.endswith("1 séance(s) réalisée(s) sur 6")
    assert [c.titre for c in registry.get("coaching").programmes_for(coaching.coach.user)] == [
        f"Coaching de {coaching.cadre}"
    ]
