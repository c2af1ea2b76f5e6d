from django.db.models import Q

from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from .models import FakeProgramme, FakeSession


def create_programme(demande, by):
    return FakeProgramme.objects.create(cadre=demande.cadre, demande_id=demande.pk)


def sessions_for(user):
    return FakeSession.objects.filter(
        Q(programme__cadre__user=user) | Q(programme__accompagnant=user)
    ).select_related("programme__cadre__user", "programme__accompagnant")


def programmes_for(user):
    programmes = FakeProgramme.objects.filter(Q(cadre__user=user) | Q(accompagnant=user))
    return [
        Card(dispositif="coaching", titre=f"Programme n° {p.pk}", statut=p.statut)
        for p in programmes.select_related("cadre")
    ]


def actions_for(user):
    return []


FAKE_SCHEME = Scheme(
    dispositif=Dispositif.COACHING,
    create_programme=create_programme,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
)
