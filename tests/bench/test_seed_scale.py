"""``manage.py seed_scale``: the bulk dataset of the benchmarks, at a small size.

Proportions as stated in ``accompagnement/scale.py``, integrity (foreign keys checked
at once, materialised paths, perimeters, sequences), and the main pages rendering
on it; the command refuses a non-empty database and bad sizes without writing."""

from datetime import timedelta
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande, Notification
from cadres.models import Cadre, Role, Structure, User
from coaching.models import Coach, Coaching, SeanceCoaching
from codev.models import Groupe, Seance
from immersion.models import Immersion
from mentorat.models import Mentor, Mentorat, Rencontre
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db

N = 60


def seed(*args, n=N):
    out = StringIO()
    call_command("seed_scale", "--cadres", str(n), *args, stdout=out)
    return out.getvalue()


def sessions_count():
    return SeanceCoaching.objects.count() + Rencontre.objects.count() + Seance.objects.count()


def test_proportions_follow_the_number_of_cadres():
    out = seed()

    assert Cadre.objects.count() == N
    assert not Cadre.objects.filter(user__isnull=True).exists()
    assert Structure.objects.filter(parent__isnull=True, niveau=0).count() == 30
    assert Coach.objects.count() == 2  # N/50, at least 2
    assert Mentor.objects.count() == N // 8
    assert Coaching.objects.count() == N
    assert Mentorat.objects.count() == round(1.3 * N)
    assert Groupe.objects.count() == N // 20
    assert Immersion.objects.count() == N // 20
    assert 18 <= sessions_count() / N <= 32  # about 25 sessions per cadre
    # One accepted request behind each programme, plus the open and refused ones.
    assert Demande.objects.filter(statut="acceptee", programme_id__isnull=False).count() >= N
    assert Demande.objects.open().count() >= round(0.03 * N)
    # Past and future sessions of every scheme.
    now = timezone.now()
    for model in (SeanceCoaching, Rencontre, Seance):
        assert model.objects.filter(debut__lt=now, statut="realisee").exists(), model
        assert model.objects.filter(debut__gt=now, statut="planifiee").exists(), model
    assert "cadres.Cadre" in out and "lignes en" in out


def test_staff_reminders_and_perimeters_are_those_of_real_ones():
    seed()

    delegues = list(User.objects.filter(roles__kind=Role.Kind.DELEGUE))
    assert len(delegues) == 30
    assert all(u.is_staff and not u.is_superuser for u in delegues)
    assert Authenticator.objects.filter(user__in=delegues, type="totp").count() == 30
    assert User.objects.filter(is_superuser=True, roles__kind=Role.Kind.ADMINISTRATEUR).count() == 1
    # Each délégué covers one ministry; together they cover every cadre exactly once.
    seen = []
    for delegue in delegues:
        (structure,) = Role.objects.get(user=delegue, kind=Role.Kind.DELEGUE).structures.all()
        assert structure.niveau == 0
        seen += Cadre.objects.visible_to(delegue).values_list("pk", flat=True)
    assert sorted(seen) == sorted(Cadre.objects.values_list("pk", flat=True))

    # A planned session has the reminders sync_session_notifications would keep.
    seance = (
        SeanceCoaching.objects.filter(debut__gt=timezone.now() + timedelta(days=8))
        .select_related("coaching__cadre__user", "coaching__coach__user")
        .first()
    )
    rows = Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(SeanceCoaching), object_id=seance.pk
    )
    assert {(r.kind, r.email, r.due_at) for r in rows} == {
        (f"session_rappel_j{days}", user.email, seance.debut - timedelta(days=days))
        for days in (7, 1)
        for user in seance.participants()
    }
    assert all(r.statut == Notification.Statut.EN_ATTENTE for r in rows)


def test_integrity_keys_paths_and_sequences():
    seed()

    with connection.cursor() as cursor:  # deferred foreign keys, checked now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    paths = dict(Structure.objects.values_list("pk", "chemin"))
    for pk, parent_id, chemin, niveau in Structure.objects.values_list(
        "pk", "parent_id", "chemin", "niveau"
    ):
        assert chemin == (paths[parent_id] if parent_id else "") + f"{pk}/"
        assert niveau == chemin.count("/") - 1
    # Sequences were moved past the bulk keys: the ORM creates rows as usual.
    cadre = CadreFactory()
    assert cadre.pk > max(
        pk for pk in Cadre.objects.exclude(pk=cadre.pk).values_list("pk", flat=True)
    )
    assert User.objects.create_user(email="nouveau@example.gouv.fr").pk


def test_main_pages_render_on_the_dataset(client):
    seed()
    now = timezone.now()

    # The persona (first cadre) has a programme of every scheme under way: the
    # benchmarks visit the same kind of portal home at every size.
    persona = Cadre.objects.order_by("pk").select_related("user").first()
    assert Coaching.objects.filter(
        cadre=persona, statut=Coaching.Statut.EN_COURS, seances__debut__gt=now
    ).exists()
    assert Mentorat.objects.filter(mentore=persona, statut=Mentorat.Statut.EN_COURS).exists()
    assert persona.membres_codev.filter(groupe__date_fin__gte=now.date()).exists()
    assert Immersion.objects.filter(cadre=persona, statut=Immersion.Statut.ACCEPTEE).exists()
    client.force_login(persona.user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mon coaching" in page and "Mon mentorat" in page

    groupe = Groupe.objects.filter(seances__debut__gt=now).first()
    client.force_login(groupe.animateur)
    assert client.get(reverse("codev:groupe", args=[groupe.pk])).status_code == 200

    delegue = User.objects.filter(roles__kind=Role.Kind.DELEGUE).first()
    client.force_login(delegue)
    response = client.get(reverse("admin:cadres_cadre_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == Cadre.objects.visible_to(delegue).count()
    assert client.get(reverse("admin_dashboard")).status_code == 200


def test_refuses_a_database_with_data_unless_told():
    existing = CadreFactory()

    with pytest.raises(CommandError, match="--flush.*--append"):
        seed()
    assert list(Cadre.objects.all()) == [existing]

    seed("--append")
    assert Cadre.objects.count() == N + 1
    assert Cadre.objects.filter(pk=existing.pk).exists()


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1000000"])
def test_refuses_a_bad_number_of_cadres(value):
    with pytest.raises(CommandError, match="--cadres"):
        call_command("seed_scale", "--cadres", value, stdout=StringIO())
    assert not Cadre.objects.exists()


def test_refuses_sqlite_above_the_small_sizes(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="SQLite"):
        seed(n=5000)
    assert not Cadre.objects.exists()
