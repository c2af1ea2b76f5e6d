"""Discovery meetings (issue 13, point 2): the délégué shortlists two or three coaches,
the cadre meets them (30-minute sessions with reminders and calendar), states a choice
and a reason, the délégué confirms (the coach is assigned, the others released); or
the cadre declines them all and asks for another shortlist. Services (the workflow and
every refusal), the portal (who sees what; 404 for others) and the admin."""

import html
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accompagnement import calendar, registry
from accompagnement.models import Mode, Notification
from accompagnement.services import outbox
from coaching import services
from coaching.models import (
    Coach,
    Coaching,
    EntretienDecouverte,
    Preselection,
    Proposition,
    Specialite,
)
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

P = Preselection.Statut
ENTRETIEN = EntretienDecouverte.Statut


@pytest.fixture(autouse=True)
def reminders(settings):
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def cadre(m):
    return make_cadre_user(structure=m["a_srv"], nom="Martin", prenom="Claire")


@pytest.fixture
def coaching(cadre):
    return CoachingFactory(cadre=cadre)


def coach(nom, **kwargs):
    kwargs.setdefault("user", UserFactory(email=f"{nom.lower()}@cabinet.example.fr"))
    return CoachFactory(nom=nom, prenom="Alex", **kwargs)


@pytest.fixture
def coaches(db):
    return [coach("Arnaud"), coach("Bertin"), coach("Chevalier")]


@pytest.fixture
def shortlist(m, coaching, coaches):
    return services.propose_shortlist(coaching, coaches, by=m["delegue_a"])


def in_days(days, hour=10):
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def book(shortlist, coach, days=5, **kwargs):
    proposition = shortlist.propositions.get(coach=coach)
    kwargs.setdefault("mode", Mode.DISTANCIEL)
    kwargs.setdefault("lien_visio", "https://webconf.numerique.gouv.fr/decouverte")
    return services.book_meeting(proposition, debut=in_days(days), **kwargs)


def rows(target, **filters):
    return Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(target), object_id=target.pk, **filters
    )


def refused(excinfo):
    return " ".join(excinfo.value.messages)


def text_of(response):
    return html.unescape(response.content.decode())


# --- Proposing a shortlist -------------------------------------------------------------


def test_delegue_shortlists_three_coaches_and_the_cadre_is_told(m, cadre, coaching, coaches):
    preselection = services.propose_shortlist(coaching, coaches, by=m["delegue_a"])
    assert preselection.statut == P.PROPOSEE
    assert {p.coach for p in preselection.propositions.all()} == set(coaches)
    assert list(
        rows(preselection, kind="coaching_preselection_proposee").values_list("email", flat=True)
    ) == [cadre.user.email]
    coaching.refresh_from_db()
    assert coaching.statut == Coaching.Statut.A_AFFECTER and coaching.coach is None


@pytest.mark.parametrize("n", [0, 1, 4])
def test_a_shortlist_has_two_or_three_coaches(coaching, n):
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(coaching, [coach(f"C{i}") for i in range(n)])
    assert excinfo.value.message_dict["coachs"] == [
        f"Présélectionnez 2 ou 3 coachs ({n} choisi(s))."
    ]
    assert not Preselection.objects.exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"actif": False}, "Alex INACTIF est inactif : ce coach ne peut pas être présélectionné."),
        (
            {"charte_signee_le": None},
            "Alex INACTIF n'a pas signé la charte de déontologie : ce coach ne peut pas "
            "être présélectionné.",
        ),
        (
            {"accreditation": False},
            "Alex INACTIF n'a aucune accréditation enregistrée : ce coach ne peut pas être "
            "présélectionné.",
        ),
    ],
    ids=["inactive", "no-charter", "no-accreditation"],
)
def test_a_shortlist_with_a_barred_coach_is_refused(coaching, coaches, kwargs, message):
    barred = coach("Inactif", **kwargs)
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(coaching, [coaches[0], barred])
    assert excinfo.value.message_dict["coachs"] == [message]
    assert not Preselection.objects.exists() and not Proposition.objects.exists()
    assert not Notification.objects.filter(kind="coaching_preselection_proposee").exists()


def test_a_shortlist_with_an_expired_accreditation_is_refused(coaching, coaches):
    expired = coach("Expire", accreditation=False)
    expired.certifications.create(
        organisme="emcc", niveau="Practitioner", expire_le=timezone.localdate() - timedelta(1)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(coaching, [coaches[0], expired])
    assert "L'accréditation EMCC Practitioner de Alex EXPIRE a expiré le" in refused(excinfo)


def test_a_full_coach_or_one_in_the_cadre_s_line_is_not_shortlisted(m, coaching, coaches):
    full = coach("Plein", capacite=1)
    CoachingFactory(coach=full, statut=Coaching.Statut.EN_COURS)
    line = coach("Ligne", type=Coach.Type.INTERNE, structure=m["a"], organisme="")
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(coaching, [coaches[0], full, line])
    messages = excinfo.value.message_dict["coachs"]
    assert len(messages) == 2
    assert "ligne hiérarchique" in messages[0] and "capacité" in messages[1]


def test_one_shortlist_at_a_time_and_only_before_the_contract(coaching, coaches, shortlist):
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(coaching, coaches[:2])
    assert "déjà en cours" in refused(excinfo)
    contracted = CoachingFactory(coach=coaches[0], statut=Coaching.Statut.CONTRACTUALISE)
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(contracted, coaches[1:])
    assert "avant la contractualisation" in refused(excinfo)


# --- Meetings ----------------------------------------------------------------------


def test_booking_a_meeting_is_a_30_minute_session_with_reminders(cadre, coaches, shortlist):
    entretien = book(shortlist, coaches[0], days=10)
    assert entretien.duree == 30 and entretien.statut == ENTRETIEN.PLANIFIEE
    shortlist.refresh_from_db()
    assert shortlist.statut == P.ENTRETIENS
    reminders = rows(entretien, kind__startswith="session_rappel_", statut="en_attente")
    assert sorted(reminders.values_list("kind", "email")) == sorted(
        (kind, email)
        for kind in ("session_rappel_j1", "session_rappel_j7")
        for email in (cadre.user.email, coaches[0].user.email)
    )
    # The coach is told now, with the calendar invitation.
    (told,) = rows(entretien, kind="coaching_entretien_reserve")
    assert told.email == coaches[0].user.email
    mail.outbox.clear()
    outbox.send_due()
    (message,) = [m for m in mail.outbox if m.to == [coaches[0].user.email]]
    assert "entretien de découverte de 30 minutes" in message.body
    assert message.attachments[0][0] == "invitation.ics"
    event = Calendar.from_ical(calendar.invitation(entretien)).walk("VEVENT")[0]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)


def test_meetings_reach_the_calendar_and_the_home_of_both_sides(cadre, coaches, shortlist):
    entretien = book(shortlist, coaches[0])
    scheme = registry.get("coaching")
    for user in (cadre.user, coaches[0].user):
        found = [list(qs) for qs in registry.session_querysets(scheme, user)]
        assert found == [[], [entretien]]
        assert [s.titre_agenda() for s in calendar.sessions_of(user)] == [
            f"Coaching – entretien de découverte avec {coaches[0]}"
        ]
    assert list(registry.session_querysets(scheme, coaches[1].user)[1]) == []


def test_meeting_refusals(cadre, coaches, shortlist):
    proposition = shortlist.propositions.get(coach=coaches[0])
    with pytest.raises(ValidationError) as excinfo:
        services.book_meeting(
            proposition, debut=timezone.now() - timedelta(hours=1), mode="distanciel"
        )
    assert excinfo.value.message_dict["debut"] == ["L'entretien doit avoir lieu dans le futur."]
    book(shortlist, coaches[0], days=3)
    with pytest.raises(ValidationError) as excinfo:
        book(shortlist, coaches[0], days=4)
    assert "est déjà prévu le" in refused(excinfo)
    assert EntretienDecouverte.objects.count() == 1


def test_a_cancelled_meeting_can_be_booked_again(cadre, coaches, shortlist):
    first = services.cancel_meeting(book(shortlist, coaches[0], days=3))
    assert rows(first, kind="session_annulation").count() == 2
    second = book(shortlist, coaches[0], days=6)
    assert second.statut == ENTRETIEN.PLANIFIEE
    with pytest.raises(ValidationError):
        services.cancel_meeting(first)


# --- Choice, confirmation, release -------------------------------------------------------


def test_the_whole_journey_choice_confirmation_and_release(m, cadre, coaches, shortlist):
    kept = book(shortlist, coaches[0], days=3)
    other = book(shortlist, coaches[1], days=4)
    services.choose(shortlist, coaches[0], "  Une approche concrète.  ", by=cadre.user)
    shortlist.refresh_from_db()
    assert shortlist.statut == P.CHOIX
    assert (
        shortlist.coach_choisi == coaches[0] and shortlist.motif_choix == "Une approche concrète."
    )
    assert list(
        rows(shortlist, kind="coaching_preselection_choix").values_list("email", flat=True)
    ) == [m["delegue_a"].email]

    services.confirm_choice(shortlist, by=m["delegue_a"])

    shortlist.refresh_from_db()
    coaching = shortlist.coaching
    coaching.refresh_from_db()
    assert shortlist.statut == P.CONFIRMEE and shortlist.cloturee_par == m["delegue_a"]
    assert coaching.coach == coaches[0] and coaching.statut == Coaching.Statut.CONTRACTUALISE
    assert rows(coaching, kind="coaching_affecte").get().email == coaches[0].user.email
    assert rows(shortlist, kind="coaching_preselection_confirmee").get().email == cadre.user.email
    released = {p.coach for p in shortlist.propositions.filter(liberee_le__isnull=False)}
    assert released == {coaches[1], coaches[2]}
    for proposition in shortlist.propositions.exclude(coach=coaches[0]):
        assert rows(proposition, kind="coaching_preselection_liberee").count() == 1
    kept.refresh_from_db()
    other.refresh_from_db()
    assert kept.statut == ENTRETIEN.PLANIFIEE  # the chosen coach's meeting stays
    assert other.statut == ENTRETIEN.ANNULEE
    assert rows(other, kind="session_annulation").count() == 2


def test_choice_refusals(cadre, coaches, shortlist):
    stranger = coach("Etranger")
    with pytest.raises(ValidationError) as excinfo:
        services.choose(shortlist, stranger, "Recommandé par un collègue.")
    assert excinfo.value.message_dict["coach"] == [
        "Choisissez l'un des coachs de votre présélection."
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.choose(shortlist, coaches[0], "   ")
    assert excinfo.value.message_dict["motif"] == [
        "Dites en quelques mots pourquoi ce coach vous convient."
    ]
    shortlist.refresh_from_db()
    assert shortlist.statut == P.PROPOSEE and shortlist.coach_choisi is None
    services.choose(shortlist, coaches[0], "Bon contact.")
    with pytest.raises(ValidationError) as excinfo:
        services.choose(shortlist, coaches[1], "Finalement.")
    assert "déjà au statut « choix du cadre à confirmer »" in refused(excinfo)
    with pytest.raises(ValidationError):
        book(shortlist, coaches[1])  # no meeting once the choice is made


def test_confirming_rechecks_the_register(m, coaches, shortlist):
    services.choose(shortlist, coaches[0], "Bon contact.")
    Coach.objects.filter(pk=coaches[0].pk).update(actif=False)
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_choice(shortlist, by=m["delegue_a"])
    assert "est inactif : ce coach ne peut pas être affecté." in refused(excinfo)
    shortlist.refresh_from_db()
    assert shortlist.statut == P.CHOIX
    assert not shortlist.propositions.filter(liberee_le__isnull=False).exists()
    # The délégué withdraws the list (with a reason) and proposes another.
    with pytest.raises(ValidationError) as excinfo:
        services.withdraw_shortlist(shortlist, "")
    assert excinfo.value.message_dict["motif"] == ["Indiquez pourquoi la présélection est retirée."]
    services.withdraw_shortlist(shortlist, "Coach indisponible.", by=m["delegue_a"])
    assert shortlist.propositions.filter(liberee_le__isnull=False).count() == 3
    again = services.propose_shortlist(shortlist.coaching, coaches[1:], by=m["delegue_a"])
    assert again.statut == P.PROPOSEE


def test_nothing_is_confirmed_before_the_cadre_chooses(m, shortlist):
    with pytest.raises(ValidationError) as excinfo:
        services.confirm_choice(shortlist, by=m["delegue_a"])
    assert refused(excinfo) == (
        "Une présélection « proposée au cadre » ne peut pas passer au statut « choix confirmé »."
    )


def test_cadre_declines_all_and_gets_another_shortlist(m, cadre, coaches, shortlist):
    meeting = book(shortlist, coaches[2], days=2)
    with pytest.raises(ValidationError) as excinfo:
        services.ask_new_shortlist(shortlist, " ")
    assert "pourquoi aucun de ces coachs" in refused(excinfo)

    services.ask_new_shortlist(
        shortlist, "Je cherche un coach ancien cadre dirigeant.", by=cadre.user
    )

    shortlist.refresh_from_db()
    assert shortlist.statut == P.NOUVELLE_DEMANDEE
    assert shortlist.propositions.filter(liberee_le__isnull=False).count() == 3
    meeting.refresh_from_db()
    assert meeting.statut == ENTRETIEN.ANNULEE
    assert rows(shortlist, kind="coaching_preselection_nouvelle").get().email == (
        m["delegue_a"].email
    )
    # The declined coaches are not proposed again; others are.
    with pytest.raises(ValidationError) as excinfo:
        services.propose_shortlist(shortlist.coaching, [coaches[0], coach("Dumas")])
    assert "a déjà été proposé à Claire MARTIN, qui a demandé une autre présélection" in refused(
        excinfo
    )
    second = services.propose_shortlist(shortlist.coaching, [coach("Faure"), coach("Estève")])
    assert second.statut == P.PROPOSEE


def test_no_direct_assignment_while_a_shortlist_is_open(coaching, coaches, shortlist):
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching, coaches[0])
    assert "Une présélection de coachs est en cours avec le cadre" in refused(excinfo)


def test_interrupting_the_coaching_withdraws_the_shortlist(coaching, coaches, shortlist):
    meeting = book(shortlist, coaches[0])
    services.change_status(coaching, Coaching.Statut.INTERROMPU)
    shortlist.refresh_from_db()
    meeting.refresh_from_db()
    assert shortlist.statut == P.RETIREE and shortlist.motif_retrait == "Coaching interrompu."
    assert meeting.statut == ENTRETIEN.ANNULEE


# The workflow of the issue, written apart from the code under test.
ALLOWED = {
    (P.PROPOSEE, P.ENTRETIENS),
    (P.PROPOSEE, P.CHOIX),
    (P.PROPOSEE, P.NOUVELLE_DEMANDEE),
    (P.PROPOSEE, P.RETIREE),
    (P.ENTRETIENS, P.CHOIX),
    (P.ENTRETIENS, P.NOUVELLE_DEMANDEE),
    (P.ENTRETIENS, P.RETIREE),
    (P.CHOIX, P.CONFIRMEE),
    (P.CHOIX, P.RETIREE),
}


def test_the_shortlist_workflow_is_the_issue_s():
    declared = {(a, b) for a, targets in Preselection.TRANSITIONS.items() for b in targets}
    assert declared == ALLOWED


# --- Portal ------------------------------------------------------------------------


def test_cadre_sees_the_shortlist_with_the_coaches_profiles(client, cadre, coaches, shortlist):
    coaches[0].biographie = "Ancienne directrice d'administration centrale."
    coaches[0].save()
    coaches[0].specialites.add(Specialite.objects.get(code="prise_de_poste"))
    client.force_login(cadre.user)
    response = client.get(reverse("coaching:preselection", args=[shortlist.coaching_id]))
    page = text_of(response)
    assert response.status_code == 200
    for c in coaches:
        assert str(c) in page
    assert "Ancienne directrice d'administration centrale." in page
    assert "Accréditation : ICF PCC" in page and "prise de poste" in page
    assert page.count("Réserver un entretien") == 3
    assert "Transmettre mon choix" in page and "Demander une autre présélection" in page
    # The home and the coaching list lead there.
    (card,) = registry.get("coaching").programmes_for(cadre.user)
    assert card.url == reverse("coaching:preselection", args=[shortlist.coaching_id])
    assert card.statut == "Coachs présélectionnés : à vous de choisir"
    detail = text_of(client.get(shortlist.coaching.get_absolute_url()))
    assert "Voir les coachs proposés" in detail


def test_shortlist_pages_answer_404_to_anyone_else(client, m, cadre, coaches, shortlist):
    pk = shortlist.coaching_id
    proposition = shortlist.propositions.first()
    urls = [
        ("get", reverse("coaching:preselection", args=[pk])),
        ("get", reverse("coaching:entretien_reserver", args=[proposition.pk])),
        ("post", reverse("coaching:preselection_choisir", args=[pk])),
        ("post", reverse("coaching:preselection_autre", args=[pk])),
    ]
    for user in (make_cadre_user(structure=m["a_srv"]).user, coaches[0].user, m["delegue_a"]):
        client.force_login(user)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (user, url)
    client.logout()
    assert client.get(urls[0][1]).status_code == 302


def test_cadre_books_a_meeting_in_the_portal(client, cadre, coaches, shortlist):
    proposition = shortlist.propositions.get(coach=coaches[1])
    url = reverse("coaching:entretien_reserver", args=[proposition.pk])
    client.force_login(cadre.user)
    assert "Entretien de découverte avec" in text_of(client.get(url))
    debut = in_days(6, hour=15)
    response = client.post(
        url,
        {"debut": debut.strftime("%Y-%m-%dT%H:%M"), "mode": "presentiel", "lieu": "Salle 12"},
    )
    assert response.status_code == 302
    entretien = EntretienDecouverte.objects.get()
    assert entretien.debut == debut and entretien.duree == 30 and entretien.lieu == "Salle 12"
    # Bad input changes nothing and says why.
    response = client.post(
        url,
        {
            "debut": (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "mode": "presentiel",
        },
    )
    assert response.status_code == 200
    assert "L'entretien doit avoir lieu dans le futur." in text_of(response)
    assert EntretienDecouverte.objects.count() == 1


def test_meeting_page_for_the_cadre_and_the_coach_only(client, m, cadre, coaches, shortlist):
    entretien = book(shortlist, coaches[0])
    url = reverse("coaching:entretien", args=[entretien.pk])
    client.force_login(cadre.user)
    assert str(coaches[0]) in text_of(client.get(url))
    client.force_login(coaches[0].user)
    page = text_of(client.get(url))
    assert str(cadre) in page and "Annuler l'entretien" in page
    # The coach's portal lists it.
    assert str(cadre) in text_of(client.get(reverse("coaching:list")))
    for other in (coaches[1].user, make_cadre_user().user, m["delegue_a"]):
        client.force_login(other)
        assert client.get(url).status_code == 404
        cancel = reverse("coaching:entretien_annuler", args=[entretien.pk])
        assert client.post(cancel).status_code == 404
    client.force_login(coaches[0].user)
    client.post(reverse("coaching:entretien_annuler", args=[entretien.pk]))
    entretien.refresh_from_db()
    assert entretien.statut == ENTRETIEN.ANNULEE


def test_cadre_chooses_or_declines_in_the_portal(client, cadre, coaches, shortlist):
    pk = shortlist.coaching_id
    client.force_login(cadre.user)
    response = client.post(
        reverse("coaching:preselection_choisir", args=[pk]), {"coach": coaches[1].pk, "motif": ""}
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in text_of(response)
    shortlist.refresh_from_db()
    assert shortlist.statut == P.PROPOSEE
    response = client.post(
        reverse("coaching:preselection_choisir", args=[pk]),
        {"coach": coaches[1].pk, "motif": "Nous avons le même rythme."},
    )
    assert response.status_code == 302
    shortlist.refresh_from_db()
    assert shortlist.statut == P.CHOIX and shortlist.coach_choisi == coaches[1]
    page = text_of(client.get(reverse("coaching:preselection", args=[pk])))
    assert f"Vous avez choisi {coaches[1]}" in page and "Transmettre mon choix" not in page
    # Declining now is too late: the choice is with the délégué.
    response = client.post(
        reverse("coaching:preselection_autre", args=[pk]), {"motif": "Non."}, follow=True
    )
    assert "ne peut pas passer" in text_of(response)
    shortlist.refresh_from_db()
    assert shortlist.statut == P.CHOIX


def test_the_portal_refuses_a_coach_whose_accreditation_expired_since_the_shortlist(
    client, cadre, coaches, shortlist
):
    """Issue 13, point 1: the register's refusal in the portal too."""
    coaches[1].certifications.update(expire_le=timezone.localdate() - timedelta(days=1))
    client.force_login(cadre.user)
    response = client.post(
        reverse("coaching:preselection_choisir", args=[shortlist.coaching_id]),
        {"coach": coaches[1].pk, "motif": "Nous avons le même rythme."},
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "a expiré le" in page and "ce coach ne peut pas être choisi." in page
    shortlist.refresh_from_db()
    assert shortlist.statut == P.PROPOSEE and shortlist.coach_choisi is None
    # An inactive coach is refused the same way; a valid one is still chosen.
    Coach.objects.filter(pk=coaches[2].pk).update(actif=False)
    coaches[2].refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.choose(shortlist, coaches[2], "Bon contact.")
    assert "est inactif : ce coach ne peut pas être choisi." in refused(excinfo)
    services.choose(shortlist, coaches[0], "Bon contact.")
    shortlist.refresh_from_db()
    assert shortlist.coach_choisi == coaches[0]


def test_cadre_declines_the_shortlist_in_the_portal(client, cadre, coaches, shortlist):
    client.force_login(cadre.user)
    response = client.post(
        reverse("coaching:preselection_autre", args=[shortlist.coaching_id]),
        {"motif": "Je souhaite un coach interne."},
    )
    assert response.status_code == 302
    shortlist.refresh_from_db()
    assert shortlist.statut == P.NOUVELLE_DEMANDEE
    assert shortlist.motif_nouvelle == "Je souhaite un coach interne."


def test_shortlist_page_queries_do_not_grow(client, m, cadre, coaching, coaches):
    first = services.propose_shortlist(coaching, coaches[:2], by=m["delegue_a"])
    url = reverse("coaching:preselection", args=[coaching.pk])
    client.force_login(cadre.user)

    def count():
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    services.ask_new_shortlist(first, "Pas d'accord.")
    more = [coach(n) for n in ("Dumas", "Estève", "Faure")]
    for c in more:
        c.specialites.set(Specialite.objects.all()[:3])
    second = services.propose_shortlist(coaching, more, by=m["delegue_a"])
    for i, c in enumerate(more):
        services.cancel_meeting(book(second, c, days=2 + i))
        book(second, c, days=8 + i)
    assert count() == few


# --- Admin -------------------------------------------------------------------------


def admin_url(coaching):
    return reverse("admin:coaching_coaching_preselection", args=[coaching.pk])


def test_delegue_proposes_confirms_in_the_admin(client, m, cadre, coaching, coaches):
    barred = coach("Barre", charte_signee_le=None)
    client.force_login(m["delegue_a"])
    page = text_of(client.get(admin_url(coaching)))
    assert "Proposer une présélection" in page
    assert str(coaches[0]) in page and str(barred) not in page  # only the register's coaches
    response = client.post(
        admin_url(coaching), {"action": "proposer", "coachs": [coaches[0].pk, barred.pk]}
    )
    assert response.status_code == 200 and not Preselection.objects.exists()
    response = client.post(
        admin_url(coaching), {"action": "proposer", "coachs": [c.pk for c in coaches[:2]]}
    )
    assert response.status_code == 302
    preselection = Preselection.objects.get()
    services.choose(preselection, coaches[1], "Approche systémique.", by=cadre.user)
    page = text_of(client.get(admin_url(coaching)))
    assert "Approche systémique." in page and "Confirmer le choix" in page
    response = client.post(admin_url(coaching), {"action": "confirmer"})
    assert response.status_code == 302
    coaching.refresh_from_db()
    assert coaching.coach == coaches[1] and coaching.statut == Coaching.Statut.CONTRACTUALISE


def test_admin_shows_the_service_refusal_and_changes_nothing(client, m, coaching, coaches):
    full = coach("Plein", capacite=1)
    CoachingFactory(coach=full, statut=Coaching.Statut.EN_COURS)
    client.force_login(m["delegue_a"])
    response = client.post(
        admin_url(coaching), {"action": "proposer", "coachs": [coaches[0].pk, full.pk]}, follow=True
    )
    assert "capacité" in text_of(response)
    assert not Preselection.objects.exists()


def test_admin_withdraw_needs_a_reason(client, m, coaching, shortlist):
    client.force_login(m["delegue_a"])
    response = client.post(admin_url(coaching), {"action": "retirer", "motif": ""})
    assert response.status_code == 200
    shortlist.refresh_from_db()
    assert shortlist.statut == P.PROPOSEE
    client.post(admin_url(coaching), {"action": "retirer", "motif": "Budget gelé."})
    shortlist.refresh_from_db()
    assert shortlist.statut == P.RETIREE


def test_admin_shortlist_page_is_inside_the_perimeter(client, m, coaching, shortlist):
    client.force_login(m["delegue_b"])
    assert client.get(admin_url(coaching)).status_code == 404
    assert client.post(admin_url(coaching), {"action": "confirmer"}).status_code == 404


def test_direct_assignment_in_the_change_form_is_refused_while_open(client, m, coaching, shortlist):
    from tests.coaching.test_admin import form_data

    other = coach("Direct")
    client.force_login(m["delegue_a"])
    response = client.post(
        reverse("admin:coaching_coaching_change", args=[coaching.pk]),
        form_data(coaching, coach=other.pk),
    )
    assert response.status_code == 200
    assert "Une présélection de coachs est en cours avec le cadre" in text_of(response)
    coaching.refresh_from_db()
    assert coaching.coach is None


def test_delegues_filter_the_choices_to_confirm(client, m, cadre, coaches, shortlist):
    CoachingFactory(cadre=make_cadre_user(structure=m["a_srv"]))
    services.choose(shortlist, coaches[0], "Bon contact.", by=cadre.user)
    client.force_login(m["delegue_a"])
    listed = client.get(
        reverse("admin:coaching_coaching_changelist"), {"preselection": "choix"}
    ).context["cl"]
    assert list(listed.result_list) == [shortlist.coaching]
