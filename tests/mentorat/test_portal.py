"""The mentoring portal (/espace/mentorat/): the mentee and the mentor each see their
relation, meetings and counter, answer a proposal (charter or reason), log meetings
and keep private notes read by their author only; a mentor sees only their mentees.
Anybody else gets 404 on a relation or meeting, never 403."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Mode, Session
from cadres.models import Role
from cadres.services import grant_role
from mentorat.models import Mentorat, Mentore, NotePrivee, Rencontre
from tests.factories import (
    CoachFactory,
    DomaineFactory,
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Mentorat.Statut
R = Session.Statut
HOME = reverse("portal:home")
LIST = reverse("mentorat:list")
BESOINS = reverse("mentorat:besoins")
MENTOR_SECRET = "Envisage de quitter son poste avant l'été"
MENTEE_SECRET = "Mon mentor me pousse vers la mobilité, à creuser"


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def text_of(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def local_input(moment):
    """The value a datetime-local input sends: Paris time, to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def make_mentor(**kwargs):
    user = UserFactory(first_name=kwargs.get("prenom", ""), last_name=kwargs.get("nom", ""))
    grant_role(user, Role.Kind.MENTOR)
    return MentorFactory(user=user, email=user.email, **kwargs)


def make_relation(mentor, mentee, **kwargs):
    """A relation and the mentee's entry of the waiting list, in step with it."""
    statut = kwargs.setdefault("statut", S.PROPOSE)
    MentoreFactory(
        cadre=mentee,
        statut=Mentore.Statut.PROPOSE if statut == S.PROPOSE else Mentore.Statut.ACCOMPAGNE,
    )
    if statut != S.PROPOSE:
        kwargs.setdefault("charte_mentor_le", timezone.now() - timedelta(days=3))
        kwargs.setdefault("charte_mentore_le", timezone.now() - timedelta(days=2))
    return MentoratFactory(mentor=mentor, mentore=mentee, **kwargs)


def make_rencontre(mentorat, days, statut=R.PLANIFIEE, **kwargs):
    return Rencontre.objects.create(
        mentorat=mentorat,
        debut=timezone.now() + timedelta(days=days),
        statut=statut,
        saisie_par=kwargs.pop("saisie_par", mentorat.mentor.user),
        **kwargs,
    )


def meeting_data(days, **kwargs):
    data = {
        "debut": local_input(timezone.now() + timedelta(days=days)),
        "duree": "60",
        "mode": Mode.PRESENTIEL,
        "lieu": "Café de la Paix",
        "lien_visio": "",
        "note": "",
    }
    data.update(kwargs)
    return data


def snapshot():
    """What a refused request must leave untouched."""
    return (
        list(
            Mentorat.objects.order_by("pk").values_list(
                "pk", "statut", "charte_mentor_le", "charte_mentore_le", "motif_fin"
            )
        ),
        list(Mentore.objects.order_by("pk").values_list("pk", "statut", "motif_attente")),
        list(Rencontre.objects.order_by("pk").values_list("pk", "statut", "debut")),
        list(NotePrivee.objects.order_by("pk").values_list("pk", "texte")),
    )


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def mentor(db):
    return make_mentor(prenom="Hélène", nom="Marchand", fonction="Directrice honoraire")


@pytest.fixture
def mentee(m):
    return make_cadre_user(structure=m["a_srv"], prenom="Agnès", nom="Lambert")


@pytest.fixture
def proposed(mentor, mentee):
    return make_relation(
        mentor,
        mentee,
        criteres=[
            {"code": "expertise", "libelle": "Expertise demandée", "detail": "Budget", "points": 30}
        ],
    )


@pytest.fixture
def live(mentor, mentee):
    return make_relation(
        mentor, mentee, statut=S.ACCEPTE, objectifs="Prendre ses marques en direction."
    )


@pytest.fixture
def other(m):
    """Another mentor's relation, with a meeting."""
    relation = make_relation(
        make_mentor(prenom="Paul", nom="Mercier"),
        make_cadre_user(structure=m["b"], prenom="Bruno", nom="Voisin"),
        statut=S.EN_COURS,
    )
    make_rencontre(relation, 5)
    return relation


def as_mentor(client, mentorat):
    client.force_login(mentorat.mentor.user)
    return client


def as_mentee(client, mentorat):
    client.force_login(mentorat.mentore.user)
    return client


# --- Access ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, live):
    rencontre = make_rencontre(live, 3)
    for url in (LIST, BESOINS, live.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login")), url
    for url in post_urls(live, rencontre):
        response = client.post(url, {})
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login")), url


def post_urls(mentorat, rencontre):
    return {
        reverse("mentorat:accept", args=[mentorat.pk]): {"charte": "on"},
        reverse("mentorat:decline", args=[mentorat.pk]): {"motif": "Intrusion"},
        reverse("mentorat:meeting", args=[mentorat.pk]): meeting_data(-1, note="Intrusion"),
        reverse("mentorat:meeting_status", args=[rencontre.pk]): {"statut": R.ANNULEE},
        reverse("mentorat:note", args=[rencontre.pk]): {"texte": "Intrusion"},
    }


def test_mentee_and_mentor_see_the_relation_and_the_list(client, live):
    make_rencontre(live, -10, statut=R.REALISEE, lieu="Bercy")
    make_rencontre(live, 7, mode=Mode.DISTANCIEL, lien_visio="https://webconf.example.fr/m1")

    as_mentee(client, live)
    text = page(client, live.get_absolute_url())
    assert "Mon mentorat" in text and "Accepté" in text
    assert "Prendre ses marques en direction." in text
    assert "Mon mentor" in text and "Hélène MARCHAND" in text
    assert live.mentor.email in text and "Directrice honoraire" in text
    assert "1 rencontre(s) tenue(s)" in text
    assert "Bercy" in text and "https://webconf.example.fr/m1" in text
    assert "Saisir une rencontre" in text
    assert "Charte du mentorat" not in text  # answered: no more charter to accept
    listing = page(client, LIST)
    assert "Mon mentorat" in listing and live.get_absolute_url() in listing
    assert "Hélène MARCHAND" in listing

    as_mentor(client, live)
    text = page(client, live.get_absolute_url())
    assert "Mentorat de Agnès LAMBERT" in text
    assert "La personne accompagnée" in text and live.mentore.email in text
    assert "1 rencontre(s) tenue(s)" in text
    listing = page(client, LIST)
    assert "Les personnes que j'accompagne" in listing
    assert live.get_absolute_url() in listing and "Agnès LAMBERT" in listing


def intruder(who, other, m):
    if who == "other_mentor":
        return other.mentor.user
    if who == "other_mentee":
        return other.mentore.user
    if who == "cadre":
        return make_cadre_user(structure=m["a_srv"]).user
    if who == "coach":
        user = UserFactory()
        grant_role(user, Role.Kind.COACH)
        CoachFactory(user=user, email=user.email)
        return user
    return m["delegue_a"]


@pytest.mark.parametrize("who", ["other_mentor", "other_mentee", "cadre", "coach", "delegue"])
def test_anybody_else_gets_404_everywhere(client, live, other, m, who):
    """The délégué of the mentee's perimeter too: the portal is the pair's own."""
    rencontre = make_rencontre(live, -3)
    NotePrivee.objects.create(rencontre=rencontre, auteur=live.mentor.user, texte=MENTOR_SECRET)
    user = intruder(who, other, m)
    client.force_login(user)
    before = snapshot()
    assert client.get(live.get_absolute_url()).status_code == 404
    for url, data in post_urls(live, rencontre).items():
        assert client.post(url, data).status_code == 404, url
    assert snapshot() == before
    assert Rencontre.objects.filter(mentorat=live).count() == 1
    # Their own list does not show it either.
    listing = page(client, LIST)
    assert live.get_absolute_url() not in listing and "LAMBERT" not in listing


def test_post_views_refuse_get(client, live):
    rencontre = make_rencontre(live, 3)
    as_mentor(client, live)
    for url in post_urls(live, rencontre):
        assert client.get(url).status_code == 405, url


def test_a_mentor_sees_only_their_own_mentees(client, m, mentor, live, other):
    second = make_relation(
        mentor, make_cadre_user(structure=m["a_dir"], prenom="Claire", nom="Fontaine")
    )
    as_mentor(client, live)
    listing = page(client, LIST)
    assert "Agnès LAMBERT" in listing and "Claire FONTAINE" in listing
    assert live.get_absolute_url() in listing and second.get_absolute_url() in listing
    assert "VOISIN" not in listing and other.get_absolute_url() not in listing
    assert "Mon mentorat" not in listing  # not a mentee
    assert client.get(other.get_absolute_url()).status_code == 404


def test_a_user_without_mentoring_gets_an_empty_list(client):
    client.force_login(make_cadre_user().user)
    assert "Vous n'avez pas de mentorat." in page(client, LIST)


# --- Answering a proposal -----------------------------------------------------------------


def test_the_proposal_shows_the_reasons_charter_and_both_forms(client, proposed):
    as_mentee(client, proposed)
    text = page(client, proposed.get_absolute_url())
    assert "Proposé" in text and "La proposition" in text
    assert "Expertise demandée : Budget" in text
    assert "Charte du mentorat" in text
    assert reverse("mentorat:accept", args=[proposed.pk]) in text
    assert reverse("mentorat:decline", args=[proposed.pk]) in text
    # No meeting before both sides have accepted.
    assert "Saisir une rencontre" not in text
    assert reverse("mentorat:meeting", args=[proposed.pk]) not in text


def test_accepting_needs_the_charter(client, proposed):
    as_mentor(client, proposed)
    before = snapshot()
    response = client.post(reverse("mentorat:accept", args=[proposed.pk]), {})
    assert response.status_code == 400
    assert "Acceptez la charte du mentorat pour accepter." in text_of(response)
    assert snapshot() == before


def test_both_sides_accept_and_the_relation_is_accepted(client, proposed):
    url = reverse("mentorat:accept", args=[proposed.pk])
    as_mentor(client, proposed)
    response = client.post(url, {"charte": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == proposed.get_absolute_url()
    assert any("l'autre membre du binôme doit encore répondre" in m for m in messages_of(response))
    proposed.refresh_from_db()
    assert proposed.charte_mentor_le is not None and proposed.charte_mentore_le is None
    assert proposed.statut == S.PROPOSE
    text = text_of(response)
    assert "Vous avez accepté cette proposition" in text
    assert reverse("mentorat:accept", args=[proposed.pk]) not in text

    as_mentee(client, proposed)
    response = client.post(url, {"charte": "on"}, follow=True)
    assert "Proposition acceptée de part et d'autre : le mentorat commence." in messages_of(
        response
    )
    proposed.refresh_from_db()
    assert proposed.statut == S.ACCEPTE
    assert proposed.charte_mentore_le is not None
    assert Mentore.objects.get(cadre=proposed.mentore).statut == Mentore.Statut.ACCOMPAGNE
    text = text_of(response)
    assert "Saisir une rencontre" in text and "La proposition" not in text


def test_declining_needs_a_reason(client, proposed):
    as_mentee(client, proposed)
    before = snapshot()
    for motif in ("", "   "):
        response = client.post(reverse("mentorat:decline", args=[proposed.pk]), {"motif": motif})
        assert response.status_code == 400
        assert "Indiquez pourquoi vous déclinez cette proposition." in text_of(response)
    assert snapshot() == before


def test_a_decline_returns_the_mentee_to_the_waiting_list_with_the_reason(client, proposed):
    as_mentor(client, proposed)
    response = client.post(
        reverse("mentorat:decline", args=[proposed.pk]),
        {"motif": "Je connais trop bien sa direction."},
        follow=True,
    )
    assert "Proposition déclinée. Le délégué en est informé." in messages_of(response)
    proposed.refresh_from_db()
    assert proposed.statut == S.DECLINE
    assert proposed.decline_par == "mentor"
    assert proposed.motif_fin == "Je connais trop bien sa direction."
    entry = Mentore.objects.get(cadre=proposed.mentore)
    assert entry.statut == Mentore.Statut.EN_ATTENTE
    assert entry.motif_attente == (
        "Proposition de Hélène MARCHAND déclinée par le mentor : Je connais trop bien sa direction."
    )
    # The mentee sees it on their list, back in the queue, and may state their wishes.
    as_mentee(client, proposed)
    listing = page(client, LIST)
    assert "En attente d'un mentor" in listing
    assert "déclinée par le mentor : Je connais trop bien sa direction." in listing
    assert BESOINS in listing


def test_a_proposal_answered_is_not_answered_again(client, proposed):
    as_mentee(client, proposed)
    client.post(reverse("mentorat:decline", args=[proposed.pk]), {"motif": "Pas le moment."})
    as_mentor(client, proposed)
    before = snapshot()
    response = client.post(reverse("mentorat:accept", args=[proposed.pk]), {"charte": "on"})
    assert response.status_code == 400
    assert "Cette proposition n'attend plus de réponse." in text_of(response)
    response = client.post(reverse("mentorat:decline", args=[proposed.pk]), {"motif": "Non"})
    assert response.status_code == 400
    assert "Cette proposition n'attend plus de réponse." in text_of(response)
    assert snapshot() == before


# --- Meetings ------------------------------------------------------------------------------


def test_a_past_meeting_is_held_and_starts_the_relation(client, live):
    as_mentee(client, live)
    url = reverse("mentorat:meeting", args=[live.pk])
    assert f'action="{url}"' in page(client, live.get_absolute_url())
    response = client.post(url, meeting_data(-2, duree="90"), follow=True)
    assert response.redirect_chain[-1][0] == live.get_absolute_url()
    assert "Rencontre enregistrée." in messages_of(response)
    rencontre = Rencontre.objects.get(mentorat=live)
    assert rencontre.statut == R.REALISEE and rencontre.duree == 90
    assert rencontre.saisie_par == live.mentore.user
    live.refresh_from_db()
    assert live.statut == S.EN_COURS
    text = text_of(response)
    assert "1 rencontre(s) tenue(s)" in text and "Café de la Paix" in text
    assert "En cours" in text


def test_a_future_meeting_is_planned(client, live):
    as_mentor(client, live)
    response = client.post(
        reverse("mentorat:meeting", args=[live.pk]),
        meeting_data(10, mode=Mode.DISTANCIEL, lieu="", lien_visio="https://webconf.example.fr/x"),
        follow=True,
    )
    assert any(m.startswith("Rencontre planifiée le") for m in messages_of(response))
    rencontre = Rencontre.objects.get(mentorat=live)
    assert rencontre.statut == R.PLANIFIEE and rencontre.mode == Mode.DISTANCIEL
    live.refresh_from_db()
    assert live.statut == S.ACCEPTE
    text = text_of(response)
    assert "0 rencontre(s) tenue(s)" in text
    assert "https://webconf.example.fr/x" in text
    # Future: it may be cancelled, not yet marked held.
    row = text.split(f'id="rencontre-{rencontre.pk}"')[1].split("</tr>")[0]
    assert "Annuler" in row and "Marquer tenue" not in row


def test_no_meeting_on_a_proposed_relation(client, proposed):
    as_mentor(client, proposed)
    url = reverse("mentorat:meeting", args=[proposed.pk])
    assert url not in page(client, proposed.get_absolute_url())
    response = client.post(url, meeting_data(-1, note="Avant même d'accepter"))
    assert response.status_code == 400
    assert "Les rencontres se saisissent pour un mentorat accepté ou en cours." in text_of(response)
    assert not Rencontre.objects.exists() and not NotePrivee.objects.exists()


def test_an_invalid_meeting_is_refused_in_french(client, live):
    as_mentor(client, live)
    response = client.post(reverse("mentorat:meeting", args=[live.pk]), meeting_data(-1, duree="5"))
    assert response.status_code == 400
    text = text_of(response)
    assert "Assurez-vous que cette valeur est supérieure ou égale à 15." in text
    assert "fr-input-group--error" in text
    response = client.post(reverse("mentorat:meeting", args=[live.pk]), meeting_data(-1, debut=""))
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text_of(response)
    # Long before the relation began.
    response = client.post(reverse("mentorat:meeting", args=[live.pk]), meeting_data(-90))
    assert response.status_code == 400
    assert "Cette date précède de loin le début du mentorat." in text_of(response)
    assert not Rencontre.objects.exists()
    live.refresh_from_db()
    assert live.statut == S.ACCEPTE


def test_marking_a_past_planned_meeting_held(client, live):
    rencontre = make_rencontre(live, -1)
    as_mentee(client, live)
    text = page(client, live.get_absolute_url())
    row = text.split(f'id="rencontre-{rencontre.pk}"')[1].split("</tr>")[0]
    assert "Marquer tenue" in row
    response = client.post(
        reverse("mentorat:meeting_status", args=[rencontre.pk]),
        {"statut": R.REALISEE},
        follow=True,
    )
    assert "Rencontre mise à jour." in messages_of(response)
    rencontre.refresh_from_db()
    live.refresh_from_db()
    assert rencontre.statut == R.REALISEE
    assert live.statut == S.EN_COURS
    assert "1 rencontre(s) tenue(s)" in text_of(response)


def test_cancelling_a_meeting_and_what_cannot_be_marked(client, live):
    future = make_rencontre(live, 4)
    as_mentor(client, live)
    url = reverse("mentorat:meeting_status", args=[future.pk])
    response = client.post(url, {"statut": R.REALISEE}, follow=True)
    assert "Une rencontre ne peut pas être réalisée avant d'avoir eu lieu." in messages_of(response)
    response = client.post(url, {"statut": R.REPORTEE}, follow=True)
    assert "Statut de rencontre inconnu." in messages_of(response)
    future.refresh_from_db()
    assert future.statut == R.PLANIFIEE

    response = client.post(url, {"statut": R.ANNULEE}, follow=True)
    assert "Rencontre mise à jour." in messages_of(response)
    future.refresh_from_db()
    assert future.statut == R.ANNULEE
    text = text_of(response)
    row = text.split(f'id="rencontre-{future.pk}"')[1].split("</tr>")[0]
    assert "Annulée" in row and "Annuler" not in row.replace("Annulée", "")
    # Once cancelled, it stays so.
    response = client.post(url, {"statut": R.ANNULEE}, follow=True)
    assert "Seule une rencontre planifiée peut changer de statut." in messages_of(response)


# --- Private notes -------------------------------------------------------------------------


def test_private_notes_are_read_by_their_author_only(client, live, other):
    as_mentor(client, live)
    response = client.post(
        reverse("mentorat:meeting", args=[live.pk]),
        meeting_data(-1, note=MENTOR_SECRET),
        follow=True,
    )
    assert MENTOR_SECRET in text_of(response)
    rencontre = Rencontre.objects.get(mentorat=live)
    note = NotePrivee.objects.get()
    assert (note.rencontre, note.auteur, note.texte) == (rencontre, live.mentor.user, MENTOR_SECRET)

    # The mentee: not on the relation, the list or the home page.
    as_mentee(client, live)
    for url in (live.get_absolute_url(), LIST, HOME):
        assert MENTOR_SECRET not in page(client, url), url
    # ... who writes their own, which the mentor does not read.
    response = client.post(
        reverse("mentorat:note", args=[rencontre.pk]), {"texte": MENTEE_SECRET}, follow=True
    )
    assert response.redirect_chain[-1][0] == (
        live.get_absolute_url() + f"#rencontre-{rencontre.pk}"
    )
    assert "Note enregistrée. Vous seul pouvez la lire." in messages_of(response)
    text = text_of(response)
    assert MENTEE_SECRET in text and MENTOR_SECRET not in text
    assert NotePrivee.objects.count() == 2

    as_mentor(client, live)
    text = page(client, live.get_absolute_url())
    assert MENTOR_SECRET in text and MENTEE_SECRET not in text
    # Another mentor: 404 here, nothing on their own relation.
    client.force_login(other.mentor.user)
    assert MENTOR_SECRET not in page(client, other.get_absolute_url())
    assert MENTEE_SECRET not in page(client, LIST)


def test_editing_then_emptying_a_note_deletes_it(client, live):
    rencontre = make_rencontre(live, -2, statut=R.REALISEE)
    NotePrivee.objects.create(rencontre=rencontre, auteur=live.mentore.user, texte="Ma note")
    mentor_note = NotePrivee.objects.create(
        rencontre=rencontre, auteur=live.mentor.user, texte=MENTOR_SECRET
    )
    url = reverse("mentorat:note", args=[rencontre.pk])
    as_mentee(client, live)
    client.post(url, {"texte": "Ma note, revue"})
    assert NotePrivee.objects.get(auteur=live.mentore.user).texte == "Ma note, revue"
    response = client.post(url, {"texte": "  "}, follow=True)
    assert "Note enregistrée. Vous seul pouvez la lire." in messages_of(response)
    assert not NotePrivee.objects.filter(auteur=live.mentore.user).exists()
    assert "Ma note, revue" not in text_of(response)
    # The mentor's note is untouched.
    assert NotePrivee.objects.get() == mentor_note
    response = client.post(url, {"texte": "x" * 5001}, follow=True)
    assert any(m.startswith("Note non enregistrée : ") for m in messages_of(response))
    assert NotePrivee.objects.count() == 1


# --- Needs and wishes -----------------------------------------------------------------------


@pytest.fixture
def waiting(m):
    return MentoreFactory(cadre=make_cadre_user(structure=m["a_srv"], prenom="Denis", nom="Roy"))


def besoins_data(**kwargs):
    data = {
        "objectifs": "Réussir ma prise de poste.",
        "annees_experience": "3",
        "ville": "Lyon",
        "mode_souhaite": Mentore.ModeSouhaite.PRESENTIEL,
    }
    data.update(kwargs)
    return data


def test_a_waiting_mentee_states_needs_and_wishes(client, waiting):
    budget, rh = DomaineFactory(libelle="Budget"), DomaineFactory(libelle="Ressources humaines")
    wished, excluded = make_mentor(prenom="Anne", nom="Souhait"), make_mentor(prenom="E", nom="X")
    client.force_login(waiting.cadre.user)
    assert "Préciser mes besoins et mes souhaits" in page(client, LIST)
    text = page(client, BESOINS)
    assert "Mes souhaits de mentorat" in text and "Anne SOUHAIT" in text
    response = client.post(
        BESOINS,
        besoins_data(
            besoins=[budget.pk, rh.pk],
            mentors_souhaites=[wished.pk],
            mentors_exclus=[excluded.pk],
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == LIST
    assert any(m.startswith("Vos souhaits sont enregistrés") for m in messages_of(response))
    waiting.refresh_from_db()
    assert set(waiting.besoins.all()) == {budget, rh}
    assert list(waiting.mentors_souhaites.all()) == [wished]
    assert list(waiting.mentors_exclus.all()) == [excluded]
    assert (waiting.ville, waiting.annees_experience, waiting.mode_souhaite) == (
        "Lyon",
        3,
        Mentore.ModeSouhaite.PRESENTIEL,
    )
    assert "Besoins : Budget, Ressources humaines." in text_of(response)


def test_a_mentor_cannot_be_both_wished_and_excluded(client, waiting):
    both = make_mentor(prenom="Anne", nom="Double")
    client.force_login(waiting.cadre.user)
    response = client.post(
        BESOINS, besoins_data(mentors_souhaites=[both.pk], mentors_exclus=[both.pk])
    )
    assert response.status_code == 400
    assert "Un mentor ne peut être à la fois souhaité et écarté : Anne DOUBLE." in text_of(response)
    waiting.refresh_from_db()
    assert not waiting.mentors_souhaites.exists() and not waiting.mentors_exclus.exists()
    assert waiting.ville == ""


def test_needs_page_without_a_waiting_entry_is_404(client, mentor):
    client.force_login(make_cadre_user().user)
    assert client.get(BESOINS).status_code == 404
    assert client.post(BESOINS, besoins_data()).status_code == 404
    client.force_login(mentor.user)  # no cadre at all
    assert client.get(BESOINS).status_code == 404


def test_a_matched_mentee_is_sent_back_to_the_list(client, proposed):
    as_mentee(client, proposed)
    for response in (
        client.get(BESOINS, follow=True),
        client.post(BESOINS, besoins_data(), follow=True),
    ):
        assert response.redirect_chain[-1][0] == LIST
        assert "Vos souhaits ne se modifient que pendant l'attente d'un mentor." in messages_of(
            response
        )
    assert Mentore.objects.get(cadre=proposed.mentore).ville == ""


# --- Portal home ------------------------------------------------------------------------------


def section(text, heading_id):
    return text.split(f'id="{heading_id}"')[1].split("</section>")[0]


def test_home_shows_the_card_and_the_pending_answer_to_each_side(client, proposed):
    as_mentor(client, proposed)
    text = page(client, HOME)
    programmes = section(text, "titre-programmes")
    assert "Mentorat de Agnès LAMBERT" in programmes
    assert proposed.get_absolute_url() in programmes and "Proposé" in programmes
    todo = section(text, "titre-actions")
    assert "Répondre à la proposition de mentorat de Agnès LAMBERT" in todo
    assert proposed.get_absolute_url() in todo

    as_mentee(client, proposed)
    text = page(client, HOME)
    programmes = section(text, "titre-programmes")
    assert "Mon mentorat" in programmes and "Mentor : Hélène MARCHAND" in programmes
    assert "0 rencontre(s)" in programmes
    assert "Répondre à la proposition de mentorat avec Hélène MARCHAND" in section(
        text, "titre-actions"
    )

    # Once the mentor has answered, only the mentee still has it to do.
    as_mentor(client, proposed)
    client.post(reverse("mentorat:accept", args=[proposed.pk]), {"charte": "on"})
    text = page(client, HOME)
    assert "Répondre à la proposition" not in text
    assert "Mentorat de Agnès LAMBERT" in section(text, "titre-programmes")
    as_mentee(client, proposed)
    assert "Répondre à la proposition" in page(client, HOME)


def test_home_drops_a_declined_proposal(client, proposed):
    as_mentee(client, proposed)
    client.post(reverse("mentorat:decline", args=[proposed.pk]), {"motif": "Pas le moment."})
    text = page(client, HOME)
    assert "Répondre à la proposition" not in text
    assert proposed.get_absolute_url() not in text


# --- Constant queries ---------------------------------------------------------------------------


def count_queries(client, url):
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), text_of(response)


@pytest.mark.parametrize("side", ["mentor", "mentee"])
def test_relation_page_queries_do_not_grow_with_meetings(client, live, side):
    user = live.mentor.user if side == "mentor" else live.mentore.user
    client.force_login(user)
    url = live.get_absolute_url()
    first = make_rencontre(live, -20, statut=R.REALISEE)
    NotePrivee.objects.create(rencontre=first, auteur=user, texte="Note 1")
    one, _ = count_queries(client, url)
    for days in range(-18, 0, 2):
        rencontre = make_rencontre(live, days, statut=R.REALISEE if days < -10 else R.PLANIFIEE)
        NotePrivee.objects.create(rencontre=rencontre, auteur=user, texte=f"Note {days}")
    assert live.rencontres.count() == 10
    many, text = count_queries(client, url)
    assert many == one
    # session, user, relation, meetings, own notes, silence check, own health checks,
    # and the access log (one INSERT … SELECT, rgpd.middleware)
    assert one <= 8
    assert "5 rencontre(s) tenue(s)" in text
    assert text.count("Marquer tenue") == 5


def test_list_queries_do_not_grow_with_relations(client, live):
    make_rencontre(live, -3, statut=R.REALISEE)
    as_mentor(client, live)
    one, _ = count_queries(client, LIST)
    for _ in range(9):
        relation = make_relation(live.mentor, make_cadre_user(), statut=S.EN_COURS)
        make_rencontre(relation, -3, statut=R.REALISEE)
    many, text = count_queries(client, LIST)
    assert many == one
    assert one <= 4  # session, user, relations, waiting entry
    assert len(set(re.findall(r'href="/espace/mentorat/(\d+)/"', text))) == 10


def test_list_queries_for_a_waiting_mentee_with_needs(client, waiting):
    client.force_login(waiting.cadre.user)
    waiting.besoins.set([DomaineFactory()])
    one, _ = count_queries(client, LIST)
    waiting.besoins.set([DomaineFactory() for _ in range(10)])
    many, _ = count_queries(client, LIST)
    assert many == one
