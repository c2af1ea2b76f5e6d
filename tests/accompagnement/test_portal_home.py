"""The portal home (/espace/): the cadre's profile and one panel per role."""

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement import registry
from accompagnement.services.demandes import decide, submit
from accompagnement.services.evaluations import request_evaluations
from cadres.models import Role
from cadres.services import grant_role
from tests.factories import (
    CadreFactory,
    UserFactory,
    VivierFactory,
    make_cadre_user,
    make_delegue,
)
from tests.fakescheme.models import FakeProgramme, FakeSession

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")
# A fixed base (session, user, profile and viviers, roles and their structures,
# evaluations, requests) plus, per registered scheme, its programmes, its next sessions
# and its pending actions.
HOME_QUERY_BUDGET = 8 + 3 * len(registry.all_schemes())


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={HOME}"


def test_cadre_sees_their_own_profile_in_dsfr_page(client):
    cadre = make_cadre_user(nom="Lambert", prenom="Agnès", fonction="Cheffe de service")
    cadre.viviers.add(VivierFactory(nom="Vivier des sous-directeurs"))
    other = CadreFactory(nom="Voisin")
    client.force_login(cadre.user)
    response = client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Agnès LAMBERT" in html
    assert "Cheffe de service" in html
    assert "Vivier des sous-directeurs" in html
    assert str(cadre.structure) in html
    assert other.nom.upper() not in html
    assert 'class="fr-header"' in html and 'class="fr-footer"' in html
    assert "Accessibilité : partiellement conforme" in html


@pytest.mark.parametrize(
    "kind, expected",
    [
        (Role.Kind.COACH, "vos coachés"),
        (Role.Kind.MENTOR, "vos mentorés"),
        (Role.Kind.ANIMATEUR, "vos groupes"),
    ],
)
def test_other_roles_see_their_own_home(client, kind, expected):
    user = UserFactory()
    grant_role(user, kind)
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert Role.Kind(kind).label in html
    assert expected in html
    assert "Mon profil" not in html


def test_delegue_home_counts_their_perimeter_and_links_the_admin(client, two_ministries):
    m = two_ministries
    CadreFactory.create_batch(3, structure=m["a_dir"])
    client.force_login(m["delegue_a"])
    html = client.get(HOME).content.decode()
    assert "4 cadres dans votre périmètre" in html
    assert "Ministère A" in html
    assert reverse("admin:index") in html


def test_account_without_profile_nor_role_is_told_whom_to_contact(client):
    client.force_login(UserFactory())
    html = client.get(HOME).content.decode()
    assert "Aucun dossier rattaché à votre compte" in html


def test_delegue_home_query_count_is_bounded(client, two_ministries, django_assert_max_num_queries):
    delegue = make_delegue(two_ministries["a"], two_ministries["b"])
    client.force_login(delegue)
    with django_assert_max_num_queries(HOME_QUERY_BUDGET + 2):
        assert client.get(HOME).status_code == 200


# --- Programmes, sessions and actions of every scheme, in constant queries -------------


def add_programmes(cadre, count, first_day=1):
    """``count`` programmes of the fake scheme for ``cadre``, each with a planned
    session, a pending evaluation; and an open request every ten programmes."""
    now = timezone.now()
    for i in range(count):
        programme = FakeProgramme.objects.create(cadre=cadre, accompagnant=UserFactory())
        FakeSession.objects.create(
            programme=programme, debut=now + timedelta(days=first_day + i), lieu=f"Salle {i:02d}"
        )
        request_evaluations(
            programme, dispositif="coaching", cadre=cadre, participants=[cadre.user]
        )
        if i % 10 == 0:
            submit(
                cadre,
                dispositif="mentorat",
                contexte="prise_de_poste",
                motivation="Trouver un mentor.",
                by=cadre.user,
            )


def home_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("with_roles", [False, True])
def test_home_queries_do_not_grow_with_the_programmes(client, with_roles):
    cadre = make_cadre_user()
    cadre.viviers.add(*VivierFactory.create_batch(3))
    if with_roles:
        for kind in (Role.Kind.COACH, Role.Kind.MENTOR, Role.Kind.ANIMATEUR):
            grant_role(cadre.user, kind)
    client.force_login(cadre.user)
    add_programmes(cadre, 1)
    client.get(HOME)  # warm the caches (content types, session)

    one, response = home_queries(client)
    assert len(response.context["programmes"]) == 1
    assert len(response.context["sessions"]) == 1
    assert len(response.context["pending_evaluations"]) == 1
    assert len(response.context["open_demandes"]) == 1

    add_programmes(cadre, 29, first_day=2)
    thirty, response = home_queries(client)
    assert len(response.context["programmes"]) == 30
    assert len(response.context["sessions"]) == 10
    assert len(response.context["pending_evaluations"]) == 30
    assert len(response.context["open_demandes"]) == 4
    assert thirty == one
    assert one <= HOME_QUERY_BUDGET


def test_home_query_count_is_exactly_the_same(client, django_assert_num_queries):
    small, large = make_cadre_user(), make_cadre_user()
    add_programmes(small, 1)
    add_programmes(large, 30)
    client.force_login(small.user)
    client.get(HOME)
    count, _ = home_queries(client)
    client.force_login(large.user)
    client.get(HOME)
    with django_assert_num_queries(count):
        response = client.get(HOME)
    assert len(response.context["programmes"]) == 30


def test_home_lists_programmes_next_sessions_and_actions(client):
    cadre = make_cadre_user()
    now = timezone.now()
    programme = FakeProgramme.objects.create(cadre=cadre, accompagnant=UserFactory())
    other = FakeProgramme.objects.create(cadre=cadre, statut="termine")

    def session(days, lieu, prog=programme, **kwargs):
        return FakeSession.objects.create(
            programme=prog, debut=now + timedelta(days=days), lieu=lieu, **kwargs
        )

    # Twelve planned sessions in shuffled order, plus some that must not show.
    planned = [
        session(days, f"Salle {days:02d}") for days in (9, 3, 12, 1, 7, 5, 11, 2, 8, 4, 6, 10)
    ]
    session(-1, "Salle passée")
    session(0.5, "Salle annulée", statut="annulee")
    session(0.6, "Salle réalisée", prog=other, statut="realisee")
    session(0.7, "Salle reportée", statut="reportee")
    [evaluation] = request_evaluations(
        other, dispositif="coaching", cadre=cadre, participants=[cadre.user]
    )
    open_demande = submit(
        cadre, dispositif="mentorat", contexte="vivier", motivation="Mentorat.", by=cadre.user
    )
    closed = submit(
        cadre, dispositif="codev", contexte="vivier", motivation="Codev.", by=cadre.user
    )
    decide(closed, "refusee", "Aucun groupe cette année.")

    client.force_login(cadre.user)
    response = client.get(HOME)
    page = html.unescape(response.content.decode())

    assert "Mes accompagnements" in page
    titles = [card.titre for card in response.context["programmes"]]
    assert sorted(titles) == sorted([f"Programme n° {programme.pk}", f"Programme n° {other.pk}"])
    assert "termine" in page

    assert "Mes prochains rendez-vous" in page
    expected = sorted(planned, key=lambda s: s.debut)[:10]
    assert response.context["sessions"] == expected
    positions = [page.index(s.lieu) for s in expected]
    assert positions == sorted(positions)
    for hidden in ("Salle passée", "Salle annulée", "Salle réalisée", "Salle reportée"):
        assert hidden not in page
    assert "Salle 11" not in page and "Salle 12" not in page  # the 11th and 12th

    assert "À faire" in page
    assert reverse("portal:evaluation", args=[evaluation.pk]) in page
    assert "Évaluer votre accompagnement (coaching)" in page
    assert "Demandes en cours" in page
    assert reverse("portal:demande_detail", args=[open_demande.pk]) in page
    assert reverse("portal:demande_detail", args=[closed.pk]) not in page


def test_home_without_anything_planned(client):
    cadre = make_cadre_user()
    client.force_login(cadre.user)
    page = html.unescape(client.get(HOME).content.decode())
    assert "Vous ne suivez aucun accompagnement pour l'instant." in page
    assert "Aucun rendez-vous planifié." in page
    assert "À faire" not in page


def test_accompanist_sees_only_their_own_programmes_and_sessions(client):
    coach, other_coach = UserFactory(), UserFactory()
    grant_role(coach, Role.Kind.COACH)
    grant_role(other_coach, Role.Kind.COACH)
    mine = FakeProgramme.objects.create(cadre=make_cadre_user(nom="Coachée"), accompagnant=coach)
    theirs = FakeProgramme.objects.create(
        cadre=make_cadre_user(nom="Autrecoaché"), accompagnant=other_coach
    )
    now = timezone.now()
    FakeSession.objects.create(programme=mine, debut=now + timedelta(days=3))
    FakeSession.objects.create(programme=theirs, debut=now + timedelta(days=2))

    client.force_login(coach)
    response = client.get(HOME)
    page = html.unescape(response.content.decode())
    assert [card.titre for card in response.context["programmes"]] == [f"Programme n° {mine.pk}"]
    assert [s.programme for s in response.context["sessions"]] == [mine]
    assert f"Séance d'accompagnement – {mine.cadre}" in page
    assert "AUTRECOACHÉ" not in page
    assert "Mon profil" not in page  # an accompanist is not a cadre here


def test_health_check(client):
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response.json() == {"statut": "ok"}
