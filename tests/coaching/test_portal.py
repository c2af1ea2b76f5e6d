"""The coaching portal (/espace/coaching/): the coached cadre sees their coaching, coach
contact and sessions and asks to move one; the coach sees only their coachees,
schedules and records sessions and keeps private notes nobody else can read."""

import html
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accompagnement.models import Mode, Notification
from cadres.models import Role
from cadres.services import grant_role
from coaching.models import Coaching, NoteCoach, SeanceCoaching
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    SeanceCoachingFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Coaching.Statut
SEANCE = SeanceCoaching.Statut
HOME = reverse("portal:home")
LIST = reverse("coaching:list")
SECRET = "Évoque un conflit avec son directeur, envisage une mobilité"
# Admin lists are searched for the end of the note; the search box echoes it back, so
# pages are checked for its beginning.
SEARCHED, SECRET_START = "envisage une mobilité", "Évoque un conflit"


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def local_input(moment):
    """The value a datetime-local input sends: Paris time, to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def make_coach(**kwargs):
    email = kwargs.pop("email", None)
    user = UserFactory(**({"email": email} if email else {}))
    grant_role(user, Role.Kind.COACH)
    return CoachFactory(user=user, email=user.email, **kwargs)


def make_seance(coaching, numero, days=7, **kwargs):
    return SeanceCoachingFactory(
        coaching=coaching,
        numero=numero,
        debut=kwargs.pop("debut", None) or timezone.now() + timedelta(days=days),
        **kwargs,
    )


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def coach(db):
    return make_coach(
        prenom="Corinne",
        nom="Durand",
        telephone="01 23 45 67 89",
        organisme="Cabinet Trajectoires",
    )


@pytest.fixture
def coaching(m, coach):
    cadre = make_cadre_user(structure=m["a_srv"], prenom="Agnès", nom="Lambert")
    return CoachingFactory(
        cadre=cadre,
        coach=coach,
        statut=S.CONTRACTUALISE,
        objectifs="Installer l'équipe de direction en six mois.",
        nb_seances_prevues=6,
    )


@pytest.fixture
def other(m):
    """Another cadre coached by another coach."""
    other_coach = make_coach(prenom="Paul", nom="Autrecoach")
    cadre = make_cadre_user(structure=m["b"], prenom="Bruno", nom="Voisinhorsjeu")
    return CoachingFactory(cadre=cadre, coach=other_coach, statut=S.EN_COURS)


def cadre_client(client, coaching):
    client.force_login(coaching.cadre.user)
    return client


def coach_client(client, coaching):
    client.force_login(coaching.coach.user)
    return client


# --- The cadre ----------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, coaching):
    url = coaching.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_cadre_sees_their_coaching_coach_contact_sessions_and_counter(client, coaching):
    done = make_seance(coaching, 1, debut=timezone.now() - timedelta(days=14), lieu="Bercy")
    SeanceCoaching.objects.filter(pk=done.pk).update(statut=SEANCE.REALISEE)
    make_seance(coaching, 2, days=7, lieu="Salle 4012, bâtiment Colbert")
    make_seance(
        coaching, 3, days=21, mode=Mode.DISTANCIEL, lien_visio="https://webconf.example.fr/abc"
    )
    cadre_client(client, coaching)
    text = page(client, coaching.get_absolute_url())
    assert "Mon coaching" in text
    assert "Contractualisé" in text and "Prise de poste" in text
    assert "Installer l'équipe de direction en six mois." in text
    # The coach's contact.
    assert "Corinne DURAND" in text
    assert coaching.coach.email in text
    assert "01 23 45 67 89" in text
    assert "Cabinet Trajectoires" in text
    # Sessions used and left.
    assert "Séances utilisées : 3 / 6" in text
    assert "1 réalisée(s) · 2 planifiée(s) · 3 restante(s) sur le forfait" in text
    assert "Salle 4012, bâtiment Colbert" in text
    assert "https://webconf.example.fr/abc" in text
    assert "Réalisée" in text and "Planifiée" in text
    # One postponement form per future planned session, none for the past one.
    assert text.count('name="motif"') == 2
    assert reverse("coaching:seance_report", args=[done.pk]) not in text
    # The coach's tools are not there.
    assert "Mes notes privées" not in text
    assert "Planifier la séance" not in text
    assert reverse("coaching:schedule", args=[coaching.pk]) not in text


def test_cadre_list_shows_their_coaching_only(client, coaching, other):
    cadre_client(client, coaching)
    text = page(client, LIST)
    assert coaching.get_absolute_url() in text
    assert "Corinne DURAND" in text
    assert other.get_absolute_url() not in text
    assert "VOISINHORSJEU" not in text and "Autrecoach" not in text


def test_another_cadre_gets_404_on_detail_and_report(client, coaching, other):
    seance = make_seance(coaching, 1)
    client.force_login(other.cadre.user)
    assert client.get(coaching.get_absolute_url()).status_code == 404
    url = reverse("coaching:seance_report", args=[seance.pk])
    assert client.post(url, {"motif": "Indisponible"}).status_code == 404
    seance.refresh_from_db()
    assert seance.report_demande_le is None
    # A user with no coaching at all: 404 too, and an empty list.
    client.force_login(UserFactory())
    assert client.get(coaching.get_absolute_url()).status_code == 404
    assert "aucun coaching" in page(client, LIST)


def test_cadre_cannot_use_the_coach_actions(client, coaching):
    seance = make_seance(coaching, 1)
    cadre_client(client, coaching)
    posts = [
        (reverse("coaching:schedule", args=[coaching.pk]), {"debut": "2099-01-01T10:00"}),
        (reverse("coaching:seance_statut", args=[seance.pk]), {"statut": "annulee"}),
        (reverse("coaching:note_add", args=[coaching.pk]), {"texte": "Je lis les notes ?"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert client.get(reverse("coaching:schedule", args=[coaching.pk])).status_code == 404
    seance.refresh_from_db()
    assert seance.statut == SEANCE.PLANIFIEE
    assert not NoteCoach.objects.exists()


def test_post_views_refuse_get(client, coaching):
    seance = make_seance(coaching, 1)
    coach_client(client, coaching)
    for url in (
        reverse("coaching:seance_statut", args=[seance.pk]),
        reverse("coaching:seance_report", args=[seance.pk]),
        reverse("coaching:note_add", args=[coaching.pk]),
    ):
        assert client.get(url).status_code == 405, url


# --- The coach ----------------------------------------------------------------------


def test_coach_sees_only_their_coachees(client, coaching, other):
    coach_client(client, coaching)
    text = page(client, LIST)
    assert "Mes coachés" in text
    assert "Agnès LAMBERT" in text
    assert other.get_absolute_url() not in text and "VOISINHORSJEU" not in text
    assert client.get(other.get_absolute_url()).status_code == 404
    detail = page(client, coaching.get_absolute_url())
    assert "Coaching de Agnès LAMBERT" in detail
    assert coaching.cadre.email in detail
    # Nor may they act on the other coach's engagement or sessions.
    seance = make_seance(other, 1)
    for url, data in [
        (reverse("coaching:schedule", args=[other.pk]), {"debut": "2099-01-01T10:00"}),
        (reverse("coaching:seance_statut", args=[seance.pk]), {"statut": "annulee"}),
        (reverse("coaching:note_add", args=[other.pk]), {"texte": "Intrusion"}),
        (reverse("coaching:seance_report", args=[seance.pk]), {"motif": "Intrusion"}),
    ]:
        assert client.post(url, data).status_code == 404, url
    seance.refresh_from_db()
    assert seance.statut == SEANCE.PLANIFIEE


def test_coach_schedules_a_session_with_reminders(client, coaching):
    coach_client(client, coaching)
    debut = (timezone.localtime() + timedelta(days=10)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    url = reverse("coaching:schedule", args=[coaching.pk])
    # The form is on the engagement's page.
    assert f'action="{url}"' in page(client, coaching.get_absolute_url())
    response = client.post(
        url,
        {
            "debut": local_input(debut),
            "duree": "90",
            "mode": Mode.DISTANCIEL,
            "lien_visio": "https://webconf.example.fr/seance-1",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == coaching.get_absolute_url()
    seance = SeanceCoaching.objects.get(coaching=coaching)
    assert (seance.numero, seance.debut, seance.duree, seance.mode) == (
        1,
        debut,
        90,
        Mode.DISTANCIEL,
    )
    assert any("Séance n° 1 planifiée" in m for m in messages_of(response))
    reminders = Notification.objects.filter(object_id=seance.pk, kind__startswith="session_rappel_")
    recipients = set(reminders.values_list("recipient", flat=True))
    assert recipients == {coaching.cadre.user_id, coaching.coach.user_id}
    assert reminders.count() == 4  # the week before and the day before, for each
    text = html.unescape(response.content.decode())
    assert "Séances utilisées : 1 / 6" in text
    assert "https://webconf.example.fr/seance-1" in text


def test_scheduling_in_the_past_is_refused_in_french(client, coaching):
    coach_client(client, coaching)
    response = client.post(
        reverse("coaching:schedule", args=[coaching.pk]),
        {
            "debut": local_input(timezone.now() - timedelta(days=1)),
            "duree": "60",
            "mode": Mode.PRESENTIEL,
            "lieu": "Bercy",
        },
    )
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "La séance doit être planifiée dans le futur." in text
    assert "fr-input-group--error" in text  # on the date field
    assert not SeanceCoaching.objects.exists()


def test_scheduling_beyond_the_allowance_is_refused(client, coaching):
    Coaching.objects.filter(pk=coaching.pk).update(nb_seances_prevues=2)
    make_seance(coaching, 1, days=3)
    make_seance(coaching, 2, days=10)
    coach_client(client, coaching)
    detail = page(client, coaching.get_absolute_url())
    assert "Les 2 séances du forfait sont toutes utilisées (réalisées ou planifiées)." in detail
    response = client.post(
        reverse("coaching:schedule", args=[coaching.pk]),
        {
            "debut": local_input(timezone.now() + timedelta(days=20)),
            "duree": "60",
            "mode": "presentiel",
        },
    )
    assert response.status_code == 200
    assert "une séance de plus demande que le délégué prolonge le forfait" in html.unescape(
        response.content.decode()
    )
    assert coaching.seances.count() == 2


def test_scheduling_needs_an_engagement_under_way(client, coaching):
    Coaching.objects.filter(pk=coaching.pk).update(statut=S.TERMINE)
    coach_client(client, coaching)
    detail = page(client, coaching.get_absolute_url())
    assert "ne se planifient que pour un coaching contractualisé ou en cours" in detail
    response = client.post(
        reverse("coaching:schedule", args=[coaching.pk]),
        {
            "debut": local_input(timezone.now() + timedelta(days=5)),
            "duree": "60",
            "mode": "presentiel",
        },
    )
    assert "ne se planifient que pour un coaching" in html.unescape(response.content.decode())
    assert not coaching.seances.exists()


def test_marking_held_before_it_happened_is_refused(client, coaching):
    seance = make_seance(coaching, 1, days=2)
    coach_client(client, coaching)
    assert "Marquer réalisée" not in page(client, coaching.get_absolute_url())
    response = client.post(
        reverse("coaching:seance_statut", args=[seance.pk]),
        {"statut": SEANCE.REALISEE},
        follow=True,
    )
    assert "Séance n° 1 : Une séance ne peut pas être réalisée avant d'avoir eu lieu." in (
        messages_of(response)
    )
    seance.refresh_from_db()
    assert seance.statut == SEANCE.PLANIFIEE


def test_marking_a_past_session_held_starts_the_coaching(client, coaching):
    seance = make_seance(coaching, 1, debut=timezone.now() - timedelta(hours=2))
    coach_client(client, coaching)
    assert "Marquer réalisée" in page(client, coaching.get_absolute_url())
    response = client.post(
        reverse("coaching:seance_statut", args=[seance.pk]),
        {"statut": SEANCE.REALISEE},
        follow=True,
    )
    assert "Séance n° 1 marquée réalisée." in messages_of(response)
    seance.refresh_from_db()
    coaching.refresh_from_db()
    assert seance.statut == SEANCE.REALISEE
    assert coaching.statut == S.EN_COURS
    assert "1 réalisée(s) · 0 planifiée(s)" in html.unescape(response.content.decode())


def test_cancelling_a_session_frees_a_slot(client, coaching):
    seance = make_seance(coaching, 1, days=4)
    coach_client(client, coaching)
    client.post(reverse("coaching:seance_statut", args=[seance.pk]), {"statut": SEANCE.ANNULEE})
    seance.refresh_from_db()
    assert seance.statut == SEANCE.ANNULEE
    assert Notification.objects.filter(object_id=seance.pk, kind="session_annulation").count() == 2
    assert "Séances utilisées : 0 / 6" in page(client, coaching.get_absolute_url())


def test_postponing_moves_the_same_session(client, coaching):
    seance = make_seance(coaching, 1, days=3)
    SeanceCoaching.objects.filter(pk=seance.pk).update(
        report_demande_le=timezone.now(), report_motif="Comité de direction"
    )
    sequence = SeanceCoaching.objects.get(pk=seance.pk).sequence
    new = (timezone.localtime() + timedelta(days=12)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    coach_client(client, coaching)
    response = client.post(
        reverse("coaching:seance_statut", args=[seance.pk]),
        {"statut": SEANCE.REPORTEE, "debut": local_input(new)},
        follow=True,
    )
    assert any("reportée au" in m for m in messages_of(response))
    moved = SeanceCoaching.objects.get(coaching=coaching)
    assert moved.pk == seance.pk
    assert moved.debut == new
    assert moved.statut == SEANCE.PLANIFIEE
    assert moved.sequence == sequence + 1
    assert moved.report_demande_le is None
    # The reminders follow the session.
    due = set(
        Notification.objects.filter(
            object_id=seance.pk, kind__startswith="session_rappel_", statut="en_attente"
        ).values_list("due_at", flat=True)
    )
    assert due == {new - timedelta(days=7), new - timedelta(days=1)}


def test_a_cancelled_session_cannot_come_back(client, coaching):
    """Bringing a cancelled session back would escape the allowance of sessions."""
    seance = make_seance(coaching, 1, days=3)
    coach_client(client, coaching)
    url = reverse("coaching:seance_statut", args=[seance.pk])
    client.post(url, {"statut": SEANCE.ANNULEE})
    later = local_input(timezone.now() + timedelta(days=9))
    response = client.post(url, {"statut": SEANCE.REPORTEE, "debut": later}, follow=True)
    assert (
        "Séance n° 1 : Seule une séance planifiée peut être marquée réalisée, annulée ou "
        "reportée." in messages_of(response)
    )
    assert SeanceCoaching.objects.get(pk=seance.pk).statut == SEANCE.ANNULEE


def test_postponing_needs_a_future_date(client, coaching):
    seance = make_seance(coaching, 1, days=3)
    coach_client(client, coaching)
    url = reverse("coaching:seance_statut", args=[seance.pk])
    response = client.post(url, {"statut": SEANCE.REPORTEE}, follow=True)
    assert "Séance n° 1 : Indiquez la nouvelle date et l'heure de la séance." in messages_of(
        response
    )
    past = local_input(timezone.now() - timedelta(days=1))
    response = client.post(url, {"statut": SEANCE.REPORTEE, "debut": past}, follow=True)
    assert "Séance n° 1 : Indiquez la nouvelle date, dans le futur." in messages_of(response)
    assert SeanceCoaching.objects.get(pk=seance.pk).debut == seance.debut


# --- Postponement asked by the cadre -------------------------------------------------


def test_cadre_asks_postponement_and_the_coach_is_told(client, coaching):
    seance = make_seance(coaching, 1, days=5)
    cadre_client(client, coaching)
    response = client.post(
        reverse("coaching:seance_report", args=[seance.pk]),
        {"motif": "Déplacement ministériel à Bruxelles"},
        follow=True,
    )
    assert any("est transmise à votre coach" in m for m in messages_of(response))
    text = html.unescape(response.content.decode())
    assert "Report demandé le" in text and "Déplacement ministériel à Bruxelles" in text
    assert text.count('name="motif"') == 0  # asked once
    row = Notification.objects.get(kind="coaching_report_demande")
    assert row.recipient == coaching.coach.user and row.object_id == seance.pk
    # Asking is not moving: same time, same status, same calendar sequence.
    asked = SeanceCoaching.objects.get(pk=seance.pk)
    assert (asked.debut, asked.statut, asked.sequence) == (
        seance.debut,
        SEANCE.PLANIFIEE,
        seance.sequence,
    )

    client.force_login(coaching.coach.user)
    home = page(client, HOME)
    todo = home.split('id="titre-actions"')[1].split("</section>")[0]
    assert "Report demandé par Agnès LAMBERT (séance n° 1)" in todo
    assert "Déplacement ministériel à Bruxelles" in todo
    detail = page(client, coaching.get_absolute_url())
    assert "Report demandé par Agnès LAMBERT" in detail
    assert "Déplacement ministériel à Bruxelles" in detail


def test_postponement_request_needs_a_reason_and_a_future_session(client, coaching):
    seance = make_seance(coaching, 1, days=5)
    past = make_seance(coaching, 2, debut=timezone.now() - timedelta(days=1))
    cadre_client(client, coaching)
    response = client.post(
        reverse("coaching:seance_report", args=[seance.pk]), {"motif": "  "}, follow=True
    )
    assert "Indiquez le motif de votre demande de report." in messages_of(response)
    response = client.post(
        reverse("coaching:seance_report", args=[past.pk]), {"motif": "Trop tard"}, follow=True
    )
    assert "Seule une séance planifiée à venir peut être reportée." in messages_of(response)
    assert not Notification.objects.filter(kind="coaching_report_demande").exists()


# --- Private notes --------------------------------------------------------------------


def admin_pages(client, coaching):
    """Every page of the admin where a coaching's content could show: each list
    searched for the secret, and the change page of each object of the coaching."""
    urls = ["/admin/"]
    for model in admin.site._registry:
        opts = model._meta
        try:
            urls.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + f"?q={SEARCHED}"
            )
        except NoReverseMatch:  # pragma: no cover
            continue
        related = {
            Coaching: [coaching.pk],
            SeanceCoaching: list(coaching.seances.values_list("pk", flat=True)),
        }
        related[type(coaching.cadre)] = [coaching.cadre.pk]
        for pk in related.get(model, []):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302, 403), url
        yield url, response.status_code, html.unescape(response.content.decode())


def test_private_notes_are_read_by_their_author_only(client, coaching, other, m):
    make_seance(coaching, 1, days=5)
    coach_client(client, coaching)
    response = client.post(
        reverse("coaching:note_add", args=[coaching.pk]), {"texte": SECRET}, follow=True
    )
    assert "Note enregistrée. Vous seul pouvez la lire." in messages_of(response)
    assert SECRET in html.unescape(response.content.decode())
    note = NoteCoach.objects.get()
    assert note.auteur == coaching.coach.user and note.coaching == coaching

    # The cadre: none of their pages shows it.
    cadre_client(client, coaching)
    for url in (coaching.get_absolute_url(), LIST, HOME, reverse("portal:agenda")):
        text = page(client, url)
        assert SECRET not in text, url
        assert "Mes notes privées" not in text

    # Another coach: not on their own engagement's page, 404 on this one.
    client.force_login(other.coach.user)
    assert SECRET not in page(client, other.get_absolute_url())
    assert client.get(coaching.get_absolute_url()).status_code == 404

    # The délégué of the cadre's perimeter and a national administrator: no admin page.
    for staff in (m["delegue_a"], m["admin"]):
        client.force_login(staff)
        assert SECRET not in page(client, HOME)
        seen = list(admin_pages(client, coaching))
        for url, _, text in seen:
            assert SECRET_START not in text, url
        # The engagement's own admin page was among them, and shown.
        change = reverse("admin:coaching_coaching_change", args=[coaching.pk])
        assert (change, 200) in [(url, status) for url, status, _ in seen]


def test_a_coach_does_not_see_notes_of_a_former_coach(client, coaching):
    former = make_coach(prenom="Ancien", nom="Coach")
    NoteCoach.objects.create(coaching=coaching, auteur=former.user, texte=SECRET)
    coach_client(client, coaching)
    text = page(client, coaching.get_absolute_url())
    assert SECRET not in text
    assert "Aucune note pour l'instant." in text


def test_an_empty_note_is_refused(client, coaching):
    coach_client(client, coaching)
    response = client.post(
        reverse("coaching:note_add", args=[coaching.pk]), {"texte": ""}, follow=True
    )
    assert any(m.startswith("Note non enregistrée") for m in messages_of(response))
    assert not NoteCoach.objects.exists()


# --- Portal home and constant queries -------------------------------------------------


def test_cadre_home_shows_the_coaching_card_and_the_next_session(client, coaching):
    make_seance(coaching, 1, days=6, lieu="Salle Turgot")
    cadre_client(client, coaching)
    text = page(client, HOME)
    programmes = text.split('id="titre-programmes"')[1].split("</section>")[0]
    assert "Mon coaching" in programmes
    assert coaching.get_absolute_url() in programmes
    assert "Coach : Corinne DURAND" in programmes
    assert "0 séance(s) réalisée(s) sur 6" in programmes
    rdv = text.split('id="titre-rdv"')[1].split("</section>")[0]
    assert "Mes prochains rendez-vous" in rdv
    assert "Coaching – séance n° 1" in rdv
    assert "Salle Turgot" in rdv


@pytest.mark.parametrize("role", ["cadre", "coach"])
def test_detail_queries_do_not_grow_with_sessions(client, coaching, role):
    Coaching.objects.filter(pk=coaching.pk).update(nb_seances_prevues=12)
    user = coaching.cadre.user if role == "cadre" else coaching.coach.user
    client.force_login(user)
    url = coaching.get_absolute_url()
    make_seance(coaching, 1, days=1)
    NoteCoach.objects.create(coaching=coaching, auteur=coaching.coach.user, texte="Première")

    def count():
        client.get(url)  # warm caches (content types, session)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for numero in range(2, 13):
        make_seance(coaching, numero, days=numero, debut=None)
    SeanceCoaching.objects.filter(coaching=coaching, numero__in=[2, 3]).update(
        debut=timezone.now() - timedelta(days=2)
    )
    SeanceCoaching.objects.filter(coaching=coaching, numero=4).update(
        report_demande_le=timezone.now(), report_motif="Congés"
    )
    for _ in range(3):
        NoteCoach.objects.create(coaching=coaching, auteur=coaching.coach.user, texte="Suite")
    assert coaching.seances.count() == 12
    assert count() == one
    assert one <= 6  # session, user, engagement, sessions (+ the coach's notes)


def test_list_queries_do_not_grow_with_coachees(client, coaching):
    coach = coaching.coach
    coach_client(client, coaching)

    def count():
        client.get(LIST)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(LIST)
        assert response.status_code == 200
        return len(ctx.captured_queries), html.unescape(response.content.decode())

    one, _ = count()
    for _ in range(5):
        other = CoachingFactory(
            cadre=make_cadre_user(), coach=coach, statut=S.EN_COURS, nb_seances_prevues=4
        )
        make_seance(other, 1)
    many, text = count()
    assert many == one
    assert text.count("1 / 4 utilisées (0 réalisée(s), 1 à venir)") == 5
