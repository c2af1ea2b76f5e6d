"""A fifth, minimal scheme used by the tests of the shared machinery: it plugs in
exactly as a real scheme app does (a programme, a session, a registry entry)."""

from django.conf import settings
from django.db import models

from accompagnement.models import Dispositif, Session
from cadres.models import Cadre


class FakeProgramme(models.Model):
    cadre = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="+")
    accompagnant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    statut = models.CharField(max_length=20, default="en_cours")
    demande_id = models.PositiveBigIntegerField(null=True, blank=True)

    def __str__(self):
        return f"Programme de {self.cadre}"


class FakeSession(Session):
    dispositif = Dispositif.COACHING
    programme = models.ForeignKey(FakeProgramme, on_delete=models.CASCADE, related_name="sessions")

    def participants(self):
        users = [self.programme.cadre.user, self.programme.accompagnant]
        return [u for u in users if u is not None]

    def titre_agenda(self):
        return f"Séance d'accompagnement – {self.programme.cadre}"
