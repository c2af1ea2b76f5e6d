"""Co-development rules through their services: the 8-member limit (also under
concurrency), the cycle on working days, the client rotation (a hypothesis property,
late joiners, leavers, swaps by hand), the séance runner and rescheduling."""

from collections import Counter
from datetime import UTC, date, time, timedelta

import holidays
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accompagnement.models import Mode, Notification
from codev import services
from codev.models import MAX_MEMBRES, Apprentissage, Groupe, Membre, PlanAction, Presence, Seance
from tests.concurrency import race
from tests.factories import (
    CadreFactory,
    GroupeFactory,
    MembreFactory,
    make_cadre_user,
)

# The order of the issue, written apart from the code under test.
PHASE_ORDER = [
    "ouverture",
    "expose",
    "clarification",
    "contrat",
    "exploration",
    "synthese",
    "apprentissage",
]
FR_HOLIDAYS = holidays.country_holidays("FR", years=range(2024, 2040))


# --- Helpers and fixtures ---------------------------------------------------------


@pytest.fixture(autouse=True)
def reminders(settings):
    """Two reminders per séance, a week and a day before, whatever the environment."""
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


@pytest.fixture
def groupe(db):
    return GroupeFactory(nom="Codev des sous-directeurs")


def messages(excinfo):
    return " ".join(excinfo.value.messages)


def outbox_rows(target, **filters):
    return Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(target), object_id=target.pk, **filters
    )


def add_members(groupe, count, users=False, on=None):
    """``count`` new cadres added through the service (with an account if ``users``)."""
    make = make_cadre_user if users else CadreFactory
    return [services.add_member(groupe, make(), on=on) for _ in range(count)]


def active_count(groupe):
    return Membre.objects.filter(groupe=groupe, date_sortie__isnull=True).count()


def seances_of(groupe):
    return list(Seance.objects.filter(groupe=groupe).order_by("numero"))


def clients_of(groupe):
    return [s.client_id for s in seances_of(groupe)]


def move_to_past(seance, days):
    """Séances cannot be generated in the past: put one there as time would."""
    Seance.objects.filter(pk=seance.pk).update(debut=timezone.now() - timedelta(days=days))
    seance.refresh_from_db()
    return seance


def run_through(seance):
    """The animateur walks every phase and closes the séance."""
    for _ in range(len(PHASE_ORDER) + 1):
        seance = services.next_phase(seance)
    return seance


def assert_fair(clients, members):
    """Among ``members``: at every point of the cycle nobody is client twice before
    everyone has been client once, so at the end the counts differ by at most 1."""
    counts = Counter(dict.fromkeys(members, 0))
    for client in clients:
        if client in counts:
            counts[client] += 1
            assert max(counts.values()) - min(counts.values()) <= 1, (clients, members)
    assert max(counts.values()) - min(counts.values()) <= 1, (clients, members)
    return counts


def working(day):
    return day.weekday() < 5 and day not in FR_HOLIDAYS


# --- 1. At most 8 members -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_animateurs_add_the_eighth_member_at_once():
    groupe = GroupeFactory()
    MembreFactory.create_batch(MAX_MEMBRES - 1, groupe=groupe)
    cadres = [CadreFactory(nom="Premier"), CadreFactory(nom="Second")]

    successes, refused = race(services.add_member, [(groupe, c) for c in cadres])

    assert len(successes) == 1 and len(refused) == 1
    assert "au plus 8" in " ".join(refused[0].messages)
    assert Membre.objects.filter(groupe=groupe).count() == 8
    assert Membre.objects.filter(groupe=groupe).actifs().count() == 8
    assert Membre.objects.filter(groupe=groupe, cadre=successes[0][1]).exists()


def test_ninth_member_is_refused(groupe):
    add_members(groupe, 8)
    ninth = CadreFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.add_member(groupe, ninth)
    assert excinfo.value.messages == [
        "Le groupe « Codev des sous-directeurs » compte déjà 8 membres : un groupe de "
        "codéveloppement en réunit au plus 8, l'animateur en plus."
    ]
    assert active_count(groupe) == 8
    assert not Membre.objects.filter(cadre=ninth).exists()


def test_a_member_who_left_frees_a_place(groupe):
    members = add_members(groupe, 8)
    services.remove_member(members[2])
    members[2].refresh_from_db()
    assert members[2].date_sortie == timezone.localdate()

    newcomer = services.add_member(groupe, CadreFactory())

    assert newcomer.date_sortie is None
    assert active_count(groupe) == 8
    with pytest.raises(ValidationError) as excinfo:
        services.add_member(groupe, CadreFactory())
    assert "au plus 8" in messages(excinfo)


def test_a_member_who_left_can_come_back_on_the_same_row(groupe):
    first, _ = add_members(groupe, 2, on=timezone.localdate() - timedelta(days=30))
    services.remove_member(first)

    back = services.add_member(groupe, first.cadre)

    assert back.pk == first.pk
    back.refresh_from_db()
    assert back.date_sortie is None
    assert back.date_entree == timezone.localdate()
    assert Membre.objects.filter(groupe=groupe, cadre=first.cadre).count() == 1


def test_a_current_member_cannot_be_added_twice(groupe):
    cadre = CadreFactory(prenom="Claire", nom="Martin")
    services.add_member(groupe, cadre)
    with pytest.raises(ValidationError) as excinfo:
        services.add_member(groupe, cadre)
    assert excinfo.value.messages == [
        "Claire MARTIN est déjà membre du groupe « Codev des sous-directeurs »."
    ]
    assert Membre.objects.filter(groupe=groupe, cadre=cadre).count() == 1


def test_add_member_by_email(groupe):
    cadre = CadreFactory(email="claire.martin@finances.gouv.fr")
    membre = services.add_member_by_email(groupe, "  Claire.Martin@FINANCES.gouv.fr ")
    assert membre.cadre == cadre and membre.groupe == groupe


@pytest.mark.parametrize("email", ["inconnu@example.gouv.fr", "", "parti@example.gouv.fr"])
def test_add_member_by_unknown_email_is_refused(groupe, email):
    CadreFactory(email="parti@example.gouv.fr", actif=False)
    with pytest.raises(ValidationError) as excinfo:
        services.add_member_by_email(groupe, email)
    assert excinfo.value.message_dict["email"] == ["Aucun cadre n'a cette adresse électronique."]
    assert not Membre.objects.filter(groupe=groupe).exists()


# --- 2. The cycle on working days ---------------------------------------------------


def unsaved_group(date_debut, date_fin, rythme, nb=30, heure=time(14, 0)):
    return Groupe(
        date_debut=date_debut,
        date_fin=date_fin,
        rythme_semaines=rythme,
        nb_seances_cible=nb,
        heure=heure,
    )


def local_days(starts):
    return [timezone.localtime(s).date() for s in starts]


@pytest.mark.parametrize(
    "date_debut, date_fin, rythme, expected",
    [
        # Easter Monday (17 April) and 1 May 2028 (both Mondays): the day after.
        (
            date(2028, 4, 3),
            date(2028, 5, 31),
            2,
            [
                date(2028, 4, 3),
                date(2028, 4, 18),
                date(2028, 5, 2),
                date(2028, 5, 15),
                date(2028, 5, 29),
            ],
        ),
        # 14 July 2028 is a Friday: the next working day is Monday 17.
        (
            date(2028, 6, 30),
            date(2028, 7, 31),
            2,
            [date(2028, 6, 30), date(2028, 7, 17), date(2028, 7, 28)],
        ),
        # 25 December 2028 (a Monday): Tuesday 26; then 1 January 2029 is a holiday too.
        (
            date(2028, 12, 4),
            date(2029, 1, 31),
            3,
            [date(2028, 12, 4), date(2028, 12, 26), date(2029, 1, 15)],
        ),
        (
            date(2028, 12, 11),
            date(2029, 1, 10),
            1,
            [
                date(2028, 12, 11),
                date(2028, 12, 18),
                date(2028, 12, 26),
                date(2029, 1, 2),
                date(2029, 1, 8),
            ],
        ),
        # A cycle starting on a Saturday: every séance moves to the Monday.
        (
            date(2028, 3, 4),
            date(2028, 3, 31),
            1,
            [date(2028, 3, 6), date(2028, 3, 13), date(2028, 3, 20), date(2028, 3, 27)],
        ),
        # Moved past the end of the period: left out.
        (date(2028, 6, 30), date(2028, 7, 14), 2, [date(2028, 6, 30)]),
    ],
)
def test_cycle_dates_move_to_the_next_working_day(date_debut, date_fin, rythme, expected):
    starts = services.cycle_dates(unsaved_group(date_debut, date_fin, rythme))
    days = local_days(starts)
    assert days == expected
    for day in days:
        assert working(day), day


def test_cycle_dates_of_a_group_with_the_default_hour():
    groupe = Groupe(date_debut=date(2028, 1, 3), date_fin=date(2028, 1, 31), nb_seances_cible=4)
    starts = services.cycle_dates(groupe)
    assert {timezone.localtime(s).time() for s in starts} == {time(14, 0)}


def test_cycle_dates_stop_at_the_target_number():
    starts = services.cycle_dates(unsaved_group(date(2028, 1, 3), date(2028, 12, 31), 2, nb=5))
    assert len(starts) == 5
    assert local_days(starts)[-1] == date(2028, 2, 28)


@given(
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2034, 12, 31)),
    length=st.integers(min_value=0, max_value=800),
    rythme=st.integers(min_value=1, max_value=12),
    nb=st.integers(min_value=1, max_value=30),
)
@hsettings(max_examples=200, deadline=None)
def test_cycle_dates_are_working_days_in_the_period(start, length, rythme, nb):
    date_fin = start + timedelta(days=length)
    starts = services.cycle_dates(unsaved_group(start, date_fin, rythme, nb=nb))
    days = local_days(starts)
    assert len(days) <= nb
    assert all(a < b for a, b in zip(days, days[1:], strict=False))
    for day in days:
        assert start <= day <= date_fin
        assert day.weekday() < 5, day
        assert day not in FR_HOLIDAYS, (day, FR_HOLIDAYS.get(day))
    # No séance is lost when the period allows it: a working day follows the
    # rhythm's day by at most a few days.
    if date_fin >= start + timedelta(weeks=rythme * (nb - 1), days=5):
        assert len(days) == nb


@pytest.mark.django_db
def test_generate_cycle_creates_the_seances_with_the_groups_settings():
    groupe = GroupeFactory(
        mode=Mode.DISTANCIEL,
        lieu="",
        lien_visio="https://webconf.numerique.gouv.fr/codev-sd",
        # Across the change to summer time (28 March 2027) and Easter Monday (29 March).
        date_debut=date(2027, 3, 1),
        date_fin=date(2027, 6, 30),
        rythme_semaines=4,
        nb_seances_cible=5,
        heure=time(9, 30),
        duree=150,
    )
    members = add_members(groupe, 3, users=True, on=date(2027, 2, 1))

    seances = services.generate_cycle(groupe)

    assert [s.numero for s in seances] == [1, 2, 3, 4, 5]
    assert seances == seances_of(groupe)
    assert local_days(s.debut for s in seances) == [
        date(2027, 3, 1),
        date(2027, 3, 30),
        date(2027, 4, 26),
        date(2027, 5, 24),
        date(2027, 6, 21),
    ]
    for seance in seances_of(groupe):
        local = timezone.localtime(seance.debut)
        assert str(local.tzinfo) == "Europe/Paris"
        assert local.time() == time(9, 30)
        assert seance.duree == 150
        assert seance.mode == Mode.DISTANCIEL
        assert seance.lien_visio == "https://webconf.numerique.gouv.fr/codev-sd"
        assert seance.statut == Seance.Statut.PLANIFIEE
        assert seance.client_id in {m.pk for m in members}
    # Winter and summer time: the same local hour, another UTC offset.
    offsets = [timezone.localtime(s.debut).utcoffset() for s in seances[:2]]
    assert offsets == [timedelta(hours=1), timedelta(hours=2)]


@pytest.mark.django_db
def test_generate_cycle_writes_reminders_for_animateur_and_members(groupe):
    members = add_members(groupe, 3, users=True)
    seances = services.generate_cycle(groupe)
    assert len(seances) == 8
    emails = {groupe.animateur.email, *(m.cadre.user.email for m in members)}
    for seance in seances:
        rows = outbox_rows(seance, statut="en_attente")
        assert sorted(rows.values_list("kind", "email", "due_at")) == sorted(
            (kind, email, seance.debut - delay)
            for kind, delay in (
                ("session_rappel_j7", timedelta(days=7)),
                ("session_rappel_j1", timedelta(days=1)),
            )
            for email in emails
        )


def test_presentiel_cycle_takes_the_groups_place(groupe):
    add_members(groupe, 2)
    seances = services.generate_cycle(groupe)
    assert {(s.mode, s.lieu, s.lien_visio) for s in seances_of(groupe)} == {
        (Mode.PRESENTIEL, "Salle Lumière, 20 avenue de Ségur, Paris", "")
    }
    for seance in seances:
        assert working(timezone.localtime(seance.debut).date())
        assert groupe.date_debut <= timezone.localtime(seance.debut).date() <= groupe.date_fin


def test_cycle_is_generated_once(groupe):
    add_members(groupe, 3)
    services.generate_cycle(groupe)
    with pytest.raises(ValidationError) as excinfo:
        services.generate_cycle(groupe)
    assert excinfo.value.messages == ["Le cycle de ce groupe est déjà planifié."]
    assert Seance.objects.filter(groupe=groupe).count() == 8


def test_cycle_needs_two_members(groupe):
    services.add_member(groupe, CadreFactory())
    gone = services.add_member(groupe, CadreFactory())
    services.remove_member(gone)
    with pytest.raises(ValidationError) as excinfo:
        services.generate_cycle(groupe)
    assert excinfo.value.messages == ["Ajoutez au moins deux membres avant de planifier le cycle."]
    assert not Seance.objects.filter(groupe=groupe).exists()


def test_cycle_needs_a_working_day_in_the_period(db):
    # Saturday 11 and Sunday 12 November 2028 (the 11th is a holiday as well).
    groupe = GroupeFactory(date_debut=date(2028, 11, 11), date_fin=date(2028, 11, 12))
    add_members(groupe, 2)
    with pytest.raises(ValidationError) as excinfo:
        services.generate_cycle(groupe)
    assert excinfo.value.messages == ["Aucune séance possible sur la période choisie."]
    assert not Seance.objects.filter(groupe=groupe).exists()


# --- 3. The client rotation ---------------------------------------------------------


@given(size=st.integers(min_value=2, max_value=8), nb=st.integers(min_value=1, max_value=20))
@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.django_db
def test_rotation_is_fair_for_any_group_and_cycle(size, nb):
    start = timezone.localdate() + timedelta(days=7)
    groupe = GroupeFactory(
        date_debut=start,
        date_fin=start + timedelta(weeks=nb + 2),
        rythme_semaines=1,
        nb_seances_cible=nb,
    )
    members = [m.pk for m in add_members(groupe, size)]

    services.generate_cycle(groupe)

    clients = clients_of(groupe)
    assert len(clients) == nb
    assert set(clients) <= set(members)
    counts = assert_fair(clients, members)
    assert sum(counts.values()) == nb
    # The first ``size`` séances have ``size`` different clients.
    assert len(set(clients[:size])) == min(size, nb)


@given(
    size=st.integers(min_value=2, max_value=7),
    weeks_ago=st.integers(min_value=0, max_value=20),
    nb=st.integers(min_value=1, max_value=20),
)
@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.django_db
def test_rotation_stays_fair_when_someone_joins_late(size, weeks_ago, nb):
    """Séances already held keep their client; the late joiner enters the rotation and
    members present for the whole cycle still differ by at most one turn."""
    start = timezone.localdate() - timedelta(weeks=weeks_ago)
    groupe = GroupeFactory(
        date_debut=start,
        date_fin=start + timedelta(weeks=nb + 2),
        rythme_semaines=1,
        nb_seances_cible=nb,
    )
    members = [m.pk for m in add_members(groupe, size, on=start - timedelta(days=1))]
    services.generate_cycle(groupe)
    now = timezone.now()
    Seance.objects.filter(groupe=groupe, debut__lte=now).update(
        statut=Seance.Statut.REALISEE, terminee_le=now
    )
    held = [s.client_id for s in seances_of(groupe) if s.debut <= now]

    late = services.add_member(groupe, CadreFactory()).pk

    clients = clients_of(groupe)
    assert clients[: len(held)] == held
    assert None not in clients
    counts = assert_fair(clients, members)
    # The joiner is chosen only when nobody has had fewer turns: at most one more turn
    # than anyone, and a turn within a round of the group once they are in.
    assert clients.count(late) <= min(counts.values()) + 1
    if nb - len(held) > size:
        assert clients.count(late) >= 1


def test_late_joiner_gets_a_turn(groupe):
    a, b, c, d = add_members(groupe, 4, on=timezone.localdate() - timedelta(days=60))
    services.generate_cycle(groupe)
    assert clients_of(groupe) == [m.pk for m in (a, b, c, d, a, b, c, d)]
    first, second = seances_of(groupe)[:2]
    run_through(move_to_past(first, days=14))
    run_through(move_to_past(second, days=7))

    e = services.add_member(groupe, CadreFactory())

    assert clients_of(groupe) == [m.pk for m in (a, b, c, d, e, a, b, c)]
    assert_fair(clients_of(groupe), [a.pk, b.pk, c.pk, d.pk])
    assert clients_of(groupe).count(e.pk) == 1


def test_member_who_leaves_loses_their_future_turns(groupe):
    a, b, c, d = add_members(groupe, 4, users=True)
    services.generate_cycle(groupe)
    assert clients_of(groupe) == [m.pk for m in (a, b, c, d, a, b, c, d)]

    services.remove_member(c)

    clients = clients_of(groupe)
    assert c.pk not in clients
    assert None not in clients
    assert_fair(clients, [a.pk, b.pk, d.pk])
    assert clients == [m.pk for m in (a, b, d, a, b, d, a, b)]


def test_reminders_follow_the_members(groupe):
    """A late joiner is reminded of the séances to come; a leaver no longer is."""
    a, b, c = add_members(groupe, 3, users=True)
    services.generate_cycle(groupe)
    later = make_cadre_user()
    assert not Notification.objects.filter(email=later.user.email).exists()

    services.add_member(groupe, later)
    services.remove_member(c)

    for seance in seances_of(groupe):
        pending = set(outbox_rows(seance, statut="en_attente").values_list("email", flat=True))
        assert pending == {
            groupe.animateur.email,
            a.cadre.user.email,
            b.cadre.user.email,
            later.user.email,
        }
    assert not Notification.objects.filter(email=c.cadre.user.email, statut="en_attente")
    assert Notification.objects.filter(email=c.cadre.user.email, statut="annulee").count() == 16


def test_leaving_keeps_the_clients_of_held_seances(groupe):
    a, b, c = add_members(groupe, 3, on=timezone.localdate() - timedelta(days=60))
    services.generate_cycle(groupe)
    run_through(move_to_past(seances_of(groupe)[0], days=7))  # a was client

    services.remove_member(a)

    clients = clients_of(groupe)
    assert clients[0] == a.pk
    assert a.pk not in clients[1:]
    assert_fair(clients[1:], [b.pk, c.pk])


def test_animateur_swaps_clients_by_hand(groupe):
    a, b, c = add_members(groupe, 3)
    services.generate_cycle(groupe)
    first, second = seances_of(groupe)[:2]
    assert (first.client_id, second.client_id) == (a.pk, b.pk)

    services.set_client(first, b)
    services.set_client(second, a)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.client, second.client) == (b, a)


def test_client_must_belong_to_the_group(groupe):
    add_members(groupe, 2)
    services.generate_cycle(groupe)
    seance = seances_of(groupe)[0]
    before = seance.client_id
    stranger = MembreFactory(groupe=GroupeFactory())
    with pytest.raises(ValidationError) as excinfo:
        services.set_client(seance, stranger)
    assert excinfo.value.messages == ["Le client doit être membre du groupe."]
    seance.refresh_from_db()
    assert seance.client_id == before


def test_client_must_be_a_member_on_the_day(groupe):
    a, b, c = add_members(groupe, 3)
    services.generate_cycle(groupe)
    services.remove_member(c)
    seance = seances_of(groupe)[0]
    with pytest.raises(ValidationError) as excinfo:
        services.set_client(seance, c)
    assert excinfo.value.messages == ["Le client doit être membre du groupe."]
    seance.refresh_from_db()
    assert seance.client_id == a.pk


@pytest.mark.parametrize("how", ["started", "closed", "past"])
def test_client_of_a_started_or_past_seance_is_fixed(groupe, how):
    a, b = add_members(groupe, 2, on=timezone.localdate() - timedelta(days=30))
    services.generate_cycle(groupe)
    seance = seances_of(groupe)[0]
    if how == "started":
        services.next_phase(seance)
    elif how == "closed":
        run_through(seance)
    else:
        move_to_past(seance, days=2)
    with pytest.raises(ValidationError) as excinfo:
        services.set_client(seance, b)
    assert excinfo.value.messages == ["Le client d'une séance commencée ou passée ne change plus."]
    seance.refresh_from_db()
    assert seance.client_id == a.pk


# --- 4. The runner ----------------------------------------------------------------


@pytest.fixture
def planned(groupe):
    """A group of four members with accounts and its cycle."""
    members = add_members(groupe, 4, users=True, on=timezone.localdate() - timedelta(days=30))
    seances = services.generate_cycle(groupe)
    return {"groupe": groupe, "members": members, "seances": seances}


def test_runner_walks_the_phases_in_order_and_closes(planned):
    seance = planned["seances"][0]
    assert seance.phase == "" and seance.phase_index == -1 and seance.phase_fin() is None
    starts = []
    for expected in PHASE_ORDER:
        before = timezone.now()
        returned = services.next_phase(seance)
        # The state lives in the database: a reload (another device) resumes it.
        reloaded = Seance.objects.get(pk=seance.pk)
        assert returned.phase == reloaded.phase == expected
        assert reloaded.phase_debut == returned.phase_debut
        assert before <= reloaded.phase_debut <= timezone.now()
        assert reloaded.phase_index == PHASE_ORDER.index(expected)
        assert reloaded.terminee_le is None
        assert reloaded.statut == Seance.Statut.PLANIFIEE
        starts.append(reloaded.phase_debut)
    assert starts == sorted(starts)

    closed = services.next_phase(seance)

    reloaded = Seance.objects.get(pk=seance.pk)
    assert reloaded.statut == closed.statut == Seance.Statut.REALISEE
    assert reloaded.terminee_le is not None
    assert reloaded.terminee_le >= starts[-1]
    with pytest.raises(ValidationError) as excinfo:
        services.next_phase(seance)
    assert excinfo.value.messages == ["Cette séance est close."]
    assert Seance.objects.get(pk=seance.pk).terminee_le == reloaded.terminee_le


def test_default_phase_durations_make_two_hours(planned):
    seance = planned["seances"][0]
    durations = {}
    for expected in PHASE_ORDER:
        seance = services.next_phase(seance)
        durations[expected] = (seance.phase_fin() - seance.phase_debut).total_seconds() / 60
    assert durations == {
        "ouverture": 10,
        "expose": 10,
        "clarification": 15,
        "contrat": 5,
        "exploration": 40,
        "synthese": 20,
        "apprentissage": 20,
    }
    assert sum(durations.values()) == 120


def test_phase_end_follows_the_groups_timings(planned):
    minutes = {"ouverture": 5, "expose": 12, "clarification": 18, "contrat": 7}
    minutes |= {"exploration": 45, "synthese": 25, "apprentissage": 8}
    Groupe.objects.filter(pk=planned["groupe"].pk).update(durees_phases=minutes)
    seance = planned["seances"][0]
    for phase in PHASE_ORDER:
        services.next_phase(seance)
        reloaded = Seance.objects.get(pk=seance.pk)
        assert reloaded.phase == phase
        assert reloaded.phase_fin() == reloaded.phase_debut + timedelta(minutes=minutes[phase])


def test_attendance_of_the_members_on_the_day(planned):
    groupe = planned["groupe"]
    a, b, c, d = planned["members"]
    seance = move_to_past(planned["seances"][0], days=1)
    gone = MembreFactory(
        groupe=groupe,
        date_entree=timezone.localdate() - timedelta(days=60),
        date_sortie=timezone.localdate() - timedelta(days=10),
    )
    later = MembreFactory(groupe=groupe, date_entree=timezone.localdate())

    services.record_attendance(seance, {a.pk, b.pk, c.pk})

    presences = dict(Presence.objects.filter(seance=seance).values_list("membre_id", "present"))
    assert presences == {a.pk: True, b.pk: True, c.pk: True, d.pk: False}
    assert gone.pk not in presences and later.pk not in presences

    services.record_attendance(seance, {d.pk})  # corrected: one row per member still
    presences = dict(Presence.objects.filter(seance=seance).values_list("membre_id", "present"))
    assert presences == {a.pk: False, b.pk: False, c.pk: False, d.pk: True}


def test_members_on_the_day_of_a_seance_use_the_local_date(db):
    """At 00:30 in Paris it is still the day before in UTC: the day is the local one."""
    groupe = GroupeFactory(heure=time(0, 30))
    add_members(groupe, 2, on=groupe.date_debut - timedelta(days=1))
    seance = Seance.objects.get(pk=services.generate_cycle(groupe)[0].pk)
    assert seance.debut.astimezone(UTC).date() < seance.jour
    joiner = MembreFactory(groupe=groupe, date_entree=seance.jour, cadre=make_cadre_user())

    services.record_attendance(seance, {joiner.pk})

    assert Presence.objects.get(seance=seance, membre=joiner).present
    assert joiner.cadre.user in seance.participants()


def test_action_plan_needs_a_client(planned):
    seance = planned["seances"][0]
    Seance.objects.filter(pk=seance.pk).update(client=None)
    seance.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.record_plan(seance, "Rencontrer le DRH avant fin janvier.")
    assert excinfo.value.messages == ["Désignez le client de la séance avant son plan d'action."]
    assert not PlanAction.objects.exists()


@pytest.mark.parametrize("actions", ["", "   \n  "])
def test_action_plan_needs_an_action(planned, actions):
    with pytest.raises(ValidationError) as excinfo:
        services.record_plan(planned["seances"][0], actions)
    assert excinfo.value.message_dict["actions"] == ["Décrivez au moins une action."]
    assert not PlanAction.objects.exists()


def test_action_plan_is_followed_up_at_the_next_seance(planned):
    first, second, third = planned["seances"][:3]
    assert services.previous_plan(second) is None

    plan = services.record_plan(first, "  1. Rencontrer le DRH.\n2. Réunir l'équipe.  ")

    assert plan.membre_id == first.client_id
    assert plan.actions == "1. Rencontrer le DRH.\n2. Réunir l'équipe."
    assert services.previous_plan(first) is None
    assert services.previous_plan(second) == plan
    assert services.previous_plan(second).membre.cadre == plan.membre.cadre
    # Written again: the same plan, updated.
    again = services.record_plan(first, "Rencontrer le DRH.")
    assert again.pk == plan.pk and PlanAction.objects.count() == 1
    # The third séance follows up the second's plan once there is one.
    assert services.previous_plan(third) == again
    newer = services.record_plan(second, "Écrire la note de cadrage.")
    assert services.previous_plan(third) == newer
    assert newer.membre_id == second.client_id != first.client_id


def test_learnings_are_recorded_by_members_of_the_group(planned):
    seance = planned["seances"][0]
    a = planned["members"][0]
    learning = services.record_learning(seance, a, "  Poser des questions ouvertes.  ")
    assert learning.texte == "Poser des questions ouvertes."
    services.record_learning(seance, a, "Écouter avant de proposer.")
    assert list(Apprentissage.objects.values_list("membre_id", "texte")) == [
        (a.pk, "Écouter avant de proposer.")
    ]

    stranger = MembreFactory(groupe=GroupeFactory())
    with pytest.raises(ValidationError) as excinfo:
        services.record_learning(seance, stranger, "Je n'étais pas là.")
    assert excinfo.value.messages == ["Seuls les membres du groupe notent leurs apprentissages."]
    assert Apprentissage.objects.count() == 1


# --- 5. Rescheduling ------------------------------------------------------------


def test_reschedule_moves_the_seance_and_its_reminders(planned):
    groupe, members = planned["groupe"], planned["members"]
    seance = planned["seances"][2]
    old_rows = set(outbox_rows(seance).values_list("pk", flat=True))
    assert len(old_rows) == 2 * 5  # two reminders, animateur and four members
    old_sequence, old_debut = seance.sequence, seance.debut
    new_debut = old_debut + timedelta(days=2, hours=1)

    moved = services.reschedule(seance, new_debut)

    moved.refresh_from_db()
    assert moved.pk == seance.pk
    assert Seance.objects.filter(groupe=groupe).count() == 8
    assert moved.debut == new_debut
    assert moved.sequence == old_sequence + 1
    assert moved.statut == Seance.Statut.PLANIFIEE
    assert set(Notification.objects.filter(pk__in=old_rows).values_list("statut", flat=True)) == {
        "annulee"
    }
    emails = {groupe.animateur.email, *(m.cadre.user.email for m in members)}
    pending = outbox_rows(moved, statut="en_attente")
    assert sorted(pending.values_list("kind", "email", "due_at")) == sorted(
        (kind, email, new_debut - delay)
        for kind, delay in (
            ("session_rappel_j7", timedelta(days=7)),
            ("session_rappel_j1", timedelta(days=1)),
        )
        for email in emails
    )


def test_reschedule_refuses_a_past_date(planned):
    seance = planned["seances"][2]
    before = Seance.objects.get(pk=seance.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.reschedule(seance, timezone.now() - timedelta(hours=1))
    assert excinfo.value.message_dict["debut"] == ["La nouvelle date doit être dans le futur."]
    after = Seance.objects.get(pk=seance.pk)
    assert (after.debut, after.sequence) == (before.debut, before.sequence)
    assert outbox_rows(seance, statut="en_attente").count() == 10


@pytest.mark.django_db
def test_an_absent_client_keeps_their_turn():
    """A client marked absent has not been client: they come back at the next séance
    still open, and the rotation stays fair."""
    cadres = [CadreFactory() for _ in range(3)]
    groupe = GroupeFactory(nb_seances_cible=4)
    for cadre in cadres:
        services.add_member(groupe, cadre, on=groupe.date_debut)
    first, *_ = services.generate_cycle(groupe)
    first.refresh_from_db()
    absent = first.client
    others = [m.pk for m in groupe.membres.all() if m.pk != absent.pk]
    first = services.next_phase(first)  # the séance is under way when the absence shows
    services.record_attendance(first, set(others))
    second = groupe.seances.get(numero=2)
    assert second.client_id == absent.pk
