"""Bad input in the admin gets a French message and saves nothing; moving a structure
moves its subtree, and perimeters follow."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from cadres.models import CYCLE_ERROR, Cadre, Structure, User
from tests.factories import CadreFactory, StructureFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

CADRE_ADD = reverse("admin:cadres_cadre_add")
DUPLICATE_EMAIL = "Un cadre avec cette adresse électronique existe déjà."
SELF_MANAGER = "Un cadre ne peut pas être son propre supérieur hiérarchique."


@pytest.fixture
def admin_client(client, two_ministries):
    client.force_login(two_ministries["admin"])
    return client


def cadre_data(structure, **overrides):
    data = {
        "civilite": Cadre.Civilite.MADAME,
        "nom": "Dupont",
        "prenom": "Jeanne",
        "email": "jeanne.dupont@example.gouv.fr",
        "telephone": "",
        "matricule": "",
        "categorie": Cadre.Categorie.A_PLUS,
        "corps": "Administrateur de l'État",
        "grade": "",
        "fonction": "Sous-directrice",
        "structure": structure.pk,
        "responsable": "",
        "date_prise_poste": "01/09/2026",
        "actif": "on",
    }
    data.update(overrides)
    return data


def structure_data(structure, **overrides):
    data = {
        "nom": structure.nom,
        "sigle": structure.sigle,
        "type": structure.type,
        "parent": structure.parent_id or "",
    }
    data.update(overrides)
    return data


def form_errors(response):
    form = response.context["adminform"].form
    return [str(e) for errors in form.errors.values() for e in errors]


def tree(*structures):
    return {
        s.pk: Structure.objects.values_list("parent_id", "chemin", "niveau").get(pk=s.pk)
        for s in structures
    }


# --- cadres ------------------------------------------------------------------------


def test_admin_adds_a_cadre_with_valid_data(admin_client, two_ministries):
    structure = two_ministries["a_dir"]
    response = admin_client.post(
        CADRE_ADD, cadre_data(structure, email="  Jeanne.DUPONT@Example.gouv.fr ")
    )
    assert response.status_code == 302, form_errors(response)
    assert response["Location"] == reverse("admin:cadres_cadre_changelist")
    cadre = Cadre.objects.get(nom="Dupont")
    assert cadre.email == "jeanne.dupont@example.gouv.fr"
    assert cadre.structure == structure
    assert cadre.matricule is None
    assert str(cadre.date_prise_poste) == "2026-09-01"


def test_admin_changes_a_cadre(admin_client, two_ministries):
    cadre = two_ministries["cadre_a"]
    url = reverse("admin:cadres_cadre_change", args=[cadre.pk])
    response = admin_client.post(
        url,
        cadre_data(
            cadre.structure,
            nom=cadre.nom,
            prenom=cadre.prenom,
            email=cadre.email.upper(),
            fonction="Cheffe de service",
            responsable=two_ministries["cadre_b"].pk,
        ),
    )
    assert response.status_code == 302, form_errors(response)
    cadre.refresh_from_db()
    assert cadre.fonction == "Cheffe de service"
    assert cadre.email == cadre.email.lower()
    assert cadre.responsable == two_ministries["cadre_b"]


def test_invalid_email_is_refused(admin_client, two_ministries):
    before = Cadre.objects.count()
    response = admin_client.post(CADRE_ADD, cadre_data(two_ministries["a"], email="jeanne.dupont@"))
    assert response.status_code == 200
    assert "Saisissez une adresse de courriel valide." in form_errors(response)
    assert "Saisissez une adresse de courriel valide." in response.content.decode()
    assert Cadre.objects.count() == before


def test_email_differing_only_by_case_is_a_duplicate(admin_client, two_ministries):
    existing = CadreFactory(structure=two_ministries["a"], email="claire.martin@example.gouv.fr")
    before = Cadre.objects.count()
    response = admin_client.post(
        CADRE_ADD, cadre_data(two_ministries["a"], email="Claire.MARTIN@example.gouv.fr")
    )
    assert response.status_code == 200
    assert DUPLICATE_EMAIL in form_errors(response)
    assert escape(DUPLICATE_EMAIL) in response.content.decode()
    assert Cadre.objects.count() == before
    assert Cadre.objects.filter(email__iexact=existing.email).count() == 1


def test_cadre_cannot_be_their_own_manager(admin_client, two_ministries):
    cadre = two_ministries["cadre_a"]
    url = reverse("admin:cadres_cadre_change", args=[cadre.pk])
    response = admin_client.post(
        url,
        cadre_data(
            cadre.structure,
            nom=cadre.nom,
            prenom=cadre.prenom,
            email=cadre.email,
            fonction="Changée",
            responsable=cadre.pk,
        ),
    )
    assert response.status_code == 200
    assert SELF_MANAGER in form_errors(response)
    assert SELF_MANAGER in response.content.decode()
    cadre.refresh_from_db()
    assert cadre.responsable is None
    assert cadre.fonction != "Changée"


# --- structures --------------------------------------------------------------------


@pytest.mark.parametrize("new_parent", ["self", "a_dir", "a_srv"])
def test_structure_cannot_be_moved_under_itself(admin_client, two_ministries, new_parent):
    m = two_ministries
    a = m["a"]
    parent = a if new_parent == "self" else m[new_parent]
    before = tree(m["a"], m["a_dir"], m["a_srv"], m["b"])
    url = reverse("admin:cadres_structure_change", args=[a.pk])
    response = admin_client.post(url, structure_data(a, nom="Renommé", parent=parent.pk))
    assert response.status_code == 200
    assert CYCLE_ERROR in form_errors(response)
    assert escape(CYCLE_ERROR) in response.content.decode()
    assert tree(m["a"], m["a_dir"], m["a_srv"], m["b"]) == before
    a.refresh_from_db()
    assert a.nom == "Ministère A"


def test_moving_a_structure_moves_its_subtree_and_perimeters_follow(
    admin_client, client, two_ministries
):
    m = two_ministries
    a, a_dir, a_srv, b = m["a"], m["a_dir"], m["a_srv"], m["b"]
    deep = StructureFactory(nom="Bureau A1-1-1", parent=a_srv, type="bureau")
    deep_cadre = CadreFactory(structure=deep, nom="Delta")
    assert (a_srv.niveau, deep.niveau) == (2, 3)

    url = reverse("admin:cadres_structure_change", args=[a_dir.pk])
    response = admin_client.post(url, structure_data(a_dir, parent=b.pk))
    assert response.status_code == 302

    for s in (a, a_dir, a_srv, b, deep):
        s.refresh_from_db()
    assert a_dir.parent == b
    assert a_dir.chemin == f"{b.pk}/{a_dir.pk}/"
    assert a_srv.chemin == f"{b.pk}/{a_dir.pk}/{a_srv.pk}/"
    assert deep.chemin == f"{b.pk}/{a_dir.pk}/{a_srv.pk}/{deep.pk}/"
    assert (a_dir.niveau, a_srv.niveau, deep.niveau) == (1, 2, 3)
    assert a.chemin == f"{a.pk}/"  # the old parent is untouched
    assert list(Structure.objects.subtree_of([a])) == [a]

    # Perimeters are subtrees: they follow the move, for fresh user instances.
    delegue_a = User.objects.get(pk=m["delegue_a"].pk)
    delegue_b = User.objects.get(pk=m["delegue_b"].pk)
    assert set(Cadre.objects.visible_to(delegue_b)) == {m["cadre_a"], m["cadre_b"], deep_cadre}
    assert set(Cadre.objects.visible_to(delegue_a)) == set()

    changelist = reverse("admin:cadres_cadre_changelist")
    client.force_login(m["delegue_b"])
    listed = set(client.get(changelist).context["cl"].result_list)
    assert {m["cadre_a"], deep_cadre} <= listed
    client.force_login(m["delegue_a"])
    listed = set(client.get(changelist).context["cl"].result_list)
    assert m["cadre_a"] not in listed
    assert deep_cadre not in listed
    change = reverse("admin:cadres_cadre_change", args=[m["cadre_a"].pk])
    assert client.get(change).status_code == 404


def test_moving_a_leaf_back_and_forth_keeps_paths_consistent(admin_client, two_ministries):
    m = two_ministries
    a_srv = m["a_srv"]
    url = reverse("admin:cadres_structure_change", args=[a_srv.pk])
    assert admin_client.post(url, structure_data(a_srv, parent=m["a"].pk)).status_code == 302
    a_srv.refresh_from_db()
    assert (a_srv.chemin, a_srv.niveau) == (f"{m['a'].pk}/{a_srv.pk}/", 1)
    assert admin_client.post(url, structure_data(a_srv, parent="")).status_code == 302
    a_srv.refresh_from_db()
    assert (a_srv.parent_id, a_srv.chemin, a_srv.niveau) == (None, f"{a_srv.pk}/", 0)
