"""Co-development through the shared machinery: what the registry tells about a person
(their groups, séances and pending actions), the portal home, the calendar feed and
the reminders of the séances."""

import html
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accompagnement import registry
from accompagnement.models import CalendarFeed, Dispositif, Notification
from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import Seance
from tests.factories import GroupeFactory, UserFactory, make_cadre_user

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")


@pytest.fixture(autouse=True)
def reminders(settings):
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


@pytest.fixture
def scheme():
    found = registry.get(Dispositif.CODEV)
    assert found is not None
    return found


@pytest.fixture
def animateur():
    user = UserFactory(first_name="Anne", last_name="Nimatrice")
    grant_role(user, Role.Kind.ANIMATEUR)
    return user


@pytest.fixture
def people():
    return {name: make_cadre_user(nom=name) for name in ("Arnaud", "Béatrice", "Claude", "Dora")}


@pytest.fixture
def groups(animateur, people):
    """Ours: Arnaud, Béatrice and Claude, cycle planned. Autre: Dora only. Quitté:
    Arnaud joined and left."""
    ours = GroupeFactory(nom="Codev des DRH", animateur=animateur)
    for name in ("Arnaud", "Béatrice", "Claude"):
        services.add_member(ours, people[name])
    services.generate_cycle(ours)
    autre = GroupeFactory(nom="Codev des SG")
    services.add_member(autre, people["Dora"])
    services.add_member(autre, make_cadre_user())
    services.generate_cycle(autre)
    quitte = GroupeFactory(nom="Codev quitté")
    arnaud = services.add_member(quitte, people["Arnaud"])
    services.add_member(quitte, make_cadre_user())
    services.add_member(quitte, make_cadre_user())
    services.generate_cycle(quitte)
    services.remove_member(arnaud)
    return {"ours": ours, "autre": autre, "quitte": quitte}


def titles(cards):
    return [card.titre for card in cards]


# --- The registry ------------------------------------------------------------------


def test_a_member_s_programmes_are_their_groups_only(scheme, people, groups, animateur):
    arnaud = people["Arnaud"].user
    assert titles(scheme.programmes_for(arnaud)) == ["Groupe « Codev des DRH »"]
    card = scheme.programmes_for(arnaud)[0]
    assert card.dispositif == Dispositif.CODEV
    assert card.url == reverse("codev:groupe", args=[groups["ours"].pk])
    assert card.statut == "En cours"
    assert titles(scheme.programmes_for(people["Dora"].user)) == ["Groupe « Codev des SG »"]
    assert titles(scheme.programmes_for(animateur)) == ["Groupe « Codev des DRH » (animation)"]
    assert scheme.programmes_for(UserFactory()) == []


def test_a_member_s_sessions_are_the_seances_of_their_groups(scheme, people, groups, animateur):
    ours = set(groups["ours"].seances.all())
    assert len(ours) == 8  # the target number of the factory's group
    assert set(scheme.sessions_for(people["Arnaud"].user)) == ours
    assert set(scheme.sessions_for(people["Béatrice"].user)) == ours
    assert set(scheme.sessions_for(animateur)) == ours
    assert set(scheme.sessions_for(people["Dora"].user)) == set(groups["autre"].seances.all())
    # Arnaud left "Codev quitté": its séances are not his any more.
    left = set(groups["quitte"].seances.all())
    assert left and not left & set(scheme.sessions_for(people["Arnaud"].user))


def test_actions_tell_the_client_of_the_next_seance(scheme, people, groups, animateur):
    seances = list(groups["ours"].seances.order_by("debut"))[:3]
    # Fair rotation: each of the three members is client once in the first three.
    assert {s.client.cadre.user for s in seances} == {
        people[n].user for n in ("Arnaud", "Béatrice", "Claude")
    }
    first = seances[0]
    (card,) = scheme.actions_for(first.client.cadre.user)
    assert card.titre == (
        f"Vous êtes client(e) de la séance du {timezone.localtime(first.debut):%d/%m/%Y}"
    )
    assert card.detail.startswith("Groupe « Codev des DRH » : préparez la situation")
    assert card.url == reverse("codev:groupe", args=[groups["ours"].pk])
    # The others are told of their own turn, not of this one; the animateur of none.
    for seance in seances[1:]:
        (card,) = scheme.actions_for(seance.client.cadre.user)
        assert card.titre.endswith(f"{timezone.localtime(seance.debut):%d/%m/%Y}")
    assert scheme.actions_for(animateur) == []
    assert scheme.actions_for(UserFactory()) == []


def test_once_held_the_client_is_told_of_their_next_turn(scheme, groups):
    seances = list(groups["ours"].seances.order_by("debut"))
    first = seances[0]
    next_turn = next(s for s in seances[1:] if s.client_id == first.client_id)
    Seance.objects.filter(pk=first.pk).update(statut=Seance.Statut.REALISEE)
    (card,) = scheme.actions_for(first.client.cadre.user)
    assert card.titre.endswith(f"{timezone.localtime(next_turn.debut):%d/%m/%Y}")


# --- The portal and the calendar ------------------------------------------------------


def test_portal_home_shows_the_group_and_the_next_seance(client, people, groups):
    client.force_login(people["Béatrice"].user)
    response = client.get(HOME)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Groupe « Codev des DRH »" in page
    assert "Codev des SG" not in page and "Codev quitté" not in page
    first = groups["ours"].seances.order_by("debut").first()
    rendez_vous = page[page.index("Mes prochains rendez-vous") :]
    assert first.titre_agenda() in rendez_vous
    assert "Codéveloppement – Codev des DRH, séance n° 1" in rendez_vous
    assert groups["ours"].lieu in rendez_vous


def test_the_calendar_feed_of_a_member_holds_the_seances(client, people, groups):
    feed = CalendarFeed.objects.get_or_create(user=people["Claude"].user)[0]
    response = client.get(reverse("calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    events = {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert set(events) == {s.ics_uid() for s in groups["ours"].seances.all()}
    first = groups["ours"].seances.order_by("numero").first()
    event = events[first.ics_uid()]
    assert str(event["summary"]) == "Codéveloppement – Codev des DRH, séance n° 1"
    assert event.decoded("dtstart") == first.debut
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=120)


# --- Reminders ----------------------------------------------------------------------


def recipients(seance):
    return set(
        Notification.objects.filter(
            object_type=ContentType.objects.get_for_model(Seance),
            object_id=seance.pk,
            kind__startswith="session_rappel_",
            statut=Notification.Statut.EN_ATTENTE,
        ).values_list("recipient", flat=True)
    )


def test_reminders_go_to_the_animateur_and_the_members_of_the_day(animateur):
    groupe = GroupeFactory(nom="Codev des préfets", animateur=animateur)
    first_day = groupe.date_debut
    present = [make_cadre_user() for _ in range(3)]
    for cadre in present:
        services.add_member(groupe, cadre)
    late = make_cadre_user(nom="Tardif")
    services.add_member(groupe, late, on=first_day + timedelta(days=30))
    gone = services.add_member(groupe, make_cadre_user(nom="Parti"))
    services.remove_member(gone)
    seances = services.generate_cycle(groupe)
    first, later = seances[0], seances[-1]
    assert later.debut.date() > first_day + timedelta(days=30)

    expected_first = {animateur.pk} | {c.user_id for c in present}
    assert recipients(first) == expected_first
    assert recipients(later) == expected_first | {late.user_id}
    assert gone.cadre.user_id not in recipients(later)
    # One row per delay and recipient.
    kinds = Notification.objects.filter(object_id=first.pk, recipient=animateur).values_list(
        "kind", flat=True
    )
    assert sorted(kinds) == ["session_rappel_j1", "session_rappel_j7"]


def test_reminders_follow_members_who_join_or_leave_after_the_cycle(animateur):
    groupe = GroupeFactory(animateur=animateur)
    members = [services.add_member(groupe, make_cadre_user()) for _ in range(3)]
    seances = services.generate_cycle(groupe)
    newcomer = make_cadre_user(nom="Nouveau")
    services.add_member(groupe, newcomer)
    services.remove_member(members[0])
    for seance in seances:
        found = recipients(seance)
        assert newcomer.user_id in found
        assert members[0].cadre.user_id not in found
        assert animateur.pk in found
