import pytest

from cadres.models import Role
from cadres.services import grant_role
from tests.factories import (
    CadreFactory,
    MentorFactory,
    StructureFactory,
    UserFactory,
    VivierFactory,
)

FONCTIONS = ["Sous-directrice", "Cheffe de service", "Directrice de projet", "Préfète"]


@pytest.fixture
def cw(two_ministries, fast_password_hasher):
    """Ministry A with two directions, a vivier of 12 cadres of A (one the line manager
    of another) and one of B, an animateur, mentors of the shared pool."""
    m = dict(two_ministries)
    m["a_dir2"] = StructureFactory(nom="Direction A2", sigle="DA2", parent=m["a"], type="direction")
    vivier = VivierFactory(nom="Vivier des futurs directeurs")
    homes = [m["a_dir"], m["a_srv"], m["a_dir2"]]
    cadres = []
    for i in range(12):
        cadre = CadreFactory(
            structure=homes[i % 3],
            matricule=f"MAT{i:03d}",
            nom=f"Membre{i:02d}",
            fonction=FONCTIONS[i % 4],
        )
        cadre.viviers.add(vivier)
        cadres.append(cadre)
    # A line manager and one of their staff, both in the cohort.
    cadres[1].responsable = cadres[0]
    cadres[1].save()
    m["cadre_b"].matricule = "MATB01"
    m["cadre_b"].save()
    m["cadre_b"].viviers.add(vivier)
    animateur = UserFactory(first_name="Anne", last_name="Animatrice")
    grant_role(animateur, Role.Kind.ANIMATEUR)
    m.update(
        vivier=vivier,
        cadres=cadres,
        animateur=animateur,
        mentors=[MentorFactory(nom=f"Mentor{i}", capacite=2) for i in range(7)],
    )
    return m
