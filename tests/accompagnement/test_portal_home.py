"""The portal home (/espace/): the cadre's profile and one panel per role."""

import pytest
from django.urls import reverse

from cadres.models import Role
from cadres.services import grant_role
from tests.factories import (
    CadreFactory,
    UserFactory,
    VivierFactory,
    make_cadre_user,
    make_delegue,
)

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")


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
    assert "Accessibilité : non conforme" in html


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


def test_home_query_count_is_bounded(client, django_assert_max_num_queries):
    cadre = make_cadre_user()
    cadre.viviers.add(*VivierFactory.create_batch(5))
    user = cadre.user
    for kind in (Role.Kind.COACH, Role.Kind.MENTOR, Role.Kind.ANIMATEUR):
        grant_role(user, kind)
    client.force_login(user)
    with django_assert_max_num_queries(12):
        assert client.get(HOME).status_code == 200


def test_delegue_home_query_count_is_bounded(client, two_ministries, django_assert_max_num_queries):
    delegue = make_delegue(two_ministries["a"], two_ministries["b"])
    client.force_login(delegue)
    with django_assert_max_num_queries(14):
        assert client.get(HOME).status_code == 200


def test_health_check(client):
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response.json() == {"statut": "ok"}
