"""Right to erasure: an administrator anonymises a cadre in one step; the identity and
what is written about them go, the figures stay; délégués cannot."""

import dataclasses
import json
from datetime import date, timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from accompagnement import dashboard
from accompagnement.models import CalendarFeed, Demande, Evaluation, Notification
from accompagnement.services import outbox
from cadres.models import Cadre, Invitation, User
from coaching.models import NoteCoach
from codev.models import PlanAction
from mentorat.models import NotePrivee, Rencontre
from rgpd import services
from rgpd.models import Trace
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    ImmersionFactory,
    MembreFactory,
    MentoratFactory,
    SeanceCoachingFactory,
    SeanceFactory,
    UserFactory,
    with_totp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

LIST = "/admin/cadres/cadre/"
NAME, EMAIL = "Zéphirine", "zephirine.dupond@example.gouv.fr"


@pytest.fixture
def victim(two_ministries):
    """A cadre of ministry A with an account and a programme in every scheme."""
    m = two_ministries
    cadre = Cadre.objects.create(
        civilite="mme",
        nom="Dupond",
        prenom=NAME,
        email=EMAIL,
        telephone="0102030405",
        structure=m["a_srv"],
        fonction="Cheffe de service",
        matricule="RH-42",
    )
    cadre.user = UserFactory(email=EMAIL, first_name=NAME, last_name="Dupond")
    cadre.save()
    with_totp(cadre.user)
    CalendarFeed.objects.create(user=cadre.user)
    Invitation.objects.create(user=cadre.user)
    demande = Demande.objects.create(
        cadre=cadre,
        dispositif="coaching",
        contexte="difficulte",
        motivation=f"{NAME} traverse une période difficile",
        statut="acceptee",
        decidee_le=timezone.now(),
    )
    coaching = CoachingFactory(
        cadre=cadre,
        coach=CoachFactory(user=UserFactory()),
        statut="en_cours",
        objectifs=f"Aider {NAME} à s'affirmer",
        demande=demande,
    )
    SeanceCoachingFactory(coaching=coaching)
    NoteCoach.objects.create(coaching=coaching, auteur=coaching.coach.user, texte="confidentiel")
    mentorat = MentoratFactory(mentore=cadre, statut="en_cours", objectifs=f"Réseau de {NAME}")
    rencontre = Rencontre.objects.create(mentorat=mentorat, debut=timezone.now())
    NotePrivee.objects.create(rencontre=rencontre, auteur=cadre.user, texte="ma note")
    membre = MembreFactory(cadre=cadre)
    seance = SeanceFactory(groupe=membre.groupe, client=membre, probleme=f"Le cas de {NAME}")
    PlanAction.objects.create(seance=seance, membre=membre, actions="appeler X")
    ImmersionFactory(
        cadre=cadre,
        statut="acceptee",
        motivation=f"{NAME} veut voir",
        commentaire_interne=f"Relancer {NAME} pour son badge",
        jours=[timezone.localdate() + timedelta(days=100)],
    )
    Evaluation.objects.create(
        dispositif="coaching",
        programme_type_id=_ct(coaching),
        programme_id=coaching.pk,
        cadre=cadre,
        participant=cadre.user,
        satisfaction=4,
        commentaire=f"Merci, {NAME}",
        remplie_le=timezone.now(),
    )
    outbox.notify("test.rgpd", cadre, user=cadre.user, context={"nom": NAME})
    return cadre


def _ct(obj):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


def figures(user):
    scope = dashboard.Scope(user, date(2000, 1, 1), timezone.localdate() + timedelta(days=3650))
    return json.dumps([dataclasses.asdict(s) for s in dashboard.sections(scope)], default=str)


def everything_about(cadre):
    """Every text the database holds in the rows that concern the cadre."""
    from django.core import serializers

    from coaching.models import Coaching
    from codev.models import Seance
    from immersion.models import Immersion, Signature
    from mentorat.models import Mentorat

    cadre.refresh_from_db()
    rows = [
        Cadre.objects.filter(pk=cadre.pk),
        User.objects.filter(pk=cadre.user_id),
        Demande.objects.filter(cadre=cadre),
        Coaching.objects.filter(cadre=cadre),
        Mentorat.objects.filter(mentore=cadre),
        Seance.objects.filter(client__cadre=cadre),
        Immersion.objects.filter(cadre=cadre),
        Signature.objects.filter(convention__immersion__cadre=cadre),
        Evaluation.objects.filter(cadre=cadre),
        Notification.objects.filter(recipient_id=cadre.user_id),
        Trace.objects.filter(cadre=cadre),
    ]
    return "".join(serializers.serialize("json", qs) for qs in rows)


def anonymise_in_admin(client, user, cadre):
    client.force_login(user)
    data = {"action": "anonymiser", "_selected_action": [cadre.pk]}
    confirmation = client.post(LIST, data)
    assert confirmation.status_code == 200
    assert "Oui, anonymiser définitivement" in confirmation.content.decode()
    return client.post(LIST, {**data, "confirmation": "oui"})


def test_an_administrator_anonymises_a_cadre_after_confirming(client, two_ministries, victim):
    m = two_ministries
    admin_user = m["admin"]
    before = figures(admin_user), figures(m["delegue_a"])
    assert NAME in everything_about(victim)

    response = anonymise_in_admin(client, admin_user, victim)
    assert response.status_code == 302

    victim.refresh_from_db()
    assert victim.anonymise_le is not None
    assert (victim.nom, victim.prenom) == ("ANONYME", f"Cadre {victim.pk}")
    assert victim.email.endswith("@anonymise.invalid")
    assert (victim.telephone, victim.matricule, victim.fonction) == ("", None, "")
    # Kept for the figures.
    assert (victim.structure, victim.civilite) == (m["a_srv"], "mme")
    assert (figures(admin_user), figures(m["delegue_a"])) == before

    text = everything_about(victim)
    for gone in (NAME, "Dupond", EMAIL, "0102030405", "RH-42", "appeler X"):
        assert gone not in text, gone
    user = User.objects.get(pk=victim.user_id)
    assert not user.is_active and not user.has_usable_password()
    client.logout()
    client.post("/compte/login/", {"login": EMAIL, "password": "mot-de-passe-de-test-2026"})
    assert "_auth_user_id" not in client.session
    assert not NoteCoach.objects.filter(coaching__cadre=victim).exists()
    assert not NotePrivee.objects.filter(auteur=user).exists()
    for model in (CalendarFeed, Invitation, Authenticator):
        assert not model.objects.filter(user=user).exists(), model
    assert not Notification.objects.filter(
        recipient=user, statut=Notification.Statut.EN_ATTENTE
    ).exists()
    # The trail keeps who did what and when, and says who anonymised.
    entry = Trace.objects.filter(cadre=victim).order_by("-timestamp").first()
    assert entry.actor == admin_user and "anonymisation" in entry.changes
    assert Trace.objects.filter(cadre=victim).count() > 1


def test_anonymising_twice_changes_nothing_more(two_ministries, victim):
    assert services.anonymise_cadre(victim, by=two_ministries["admin"]) is True
    state = everything_about(victim)
    traces = Trace.objects.count()
    assert services.anonymise_cadre(victim, by=two_ministries["admin"]) is False
    assert everything_about(victim) == state
    assert Trace.objects.count() == traces


def test_a_failure_midway_leaves_everything_as_it_was(two_ministries, victim, monkeypatch):
    state = everything_about(victim)

    def broken(cadre):
        raise RuntimeError("panne")

    monkeypatch.setattr(services, "_anonymise_account", lambda user: broken(user))
    with pytest.raises(RuntimeError):
        services.anonymise_cadre(victim)
    assert everything_about(victim) == state
    assert Cadre.objects.get(pk=victim.pk).anonymise_le is None


def test_a_delegue_is_not_offered_the_action_and_cannot_run_it(client, two_ministries, victim):
    client.force_login(two_ministries["delegue_a"])
    page = client.get(LIST).content.decode()
    assert 'value="anonymiser"' not in page
    client.post(
        LIST, {"action": "anonymiser", "_selected_action": [victim.pk], "confirmation": "oui"}
    )
    victim.refresh_from_db()
    assert victim.anonymise_le is None and victim.prenom == NAME


def test_the_action_refuses_a_delegue_even_when_called_directly(rf, two_ministries, victim):
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied

    request = rf.post(LIST, {"confirmation": "oui"})
    request.user = two_ministries["delegue_a"]
    model_admin = admin.site._registry[Cadre]
    with pytest.raises(PermissionDenied):
        model_admin.anonymiser(request, Cadre.objects.filter(pk=victim.pk))
    victim.refresh_from_db()
    assert victim.anonymise_le is None


def test_an_anonymised_cadre_has_no_data_page_any_more(client, two_ministries, victim):
    services.anonymise_cadre(victim)
    client.force_login(User.objects.get(pk=victim.user_id))
    # The account is deactivated: the session no longer authenticates.
    response = client.get("/espace/mes-donnees/")
    assert response.status_code == 302


def test_the_file_documents_are_exported_then_erased(two_ministries, victim):
    from parcours.models import DocumentParcours
    from rgpd.services import anonymise_cadre, export_data

    DocumentParcours.objects.create(
        cadre=victim,
        nature=DocumentParcours.Nature.PLAN,
        date=timezone.localdate(),
        reference="Plan individuel 2026, GED RH",
    )
    exported = export_data(victim)["documents_de_parcours"]
    assert [d["reference"] for d in exported] == ["Plan individuel 2026, GED RH"]
    assert export_data(victim)["programmes_de_cohorte"] == []
    assert exported[0]["nature"] == "Plan individuel de développement des compétences (art. 8)"

    assert anonymise_cadre(victim, by=two_ministries["admin"])
    assert not DocumentParcours.objects.filter(cadre=victim).exists()
