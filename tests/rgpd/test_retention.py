"""Retention (Celery beat): files past RGPD_RETENTION_YEARS are anonymised, private
notes of programmes closed before the limit erased, dead links deleted; twice is once."""

from datetime import timedelta
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accompagnement.models import CalendarFeed
from cadres.models import Cadre, Invitation
from coaching.models import NoteCoach
from codev.models import PlanAction
from immersion import services as immersion_services
from immersion.models import Immersion, Signature
from rgpd import services, tasks
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    GroupeFactory,
    ImmersionFactory,
    MembreFactory,
    SeanceFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def years_ago(years, days=0):
    return timezone.localdate() - relativedelta(years=years) - timedelta(days=days)


def closed_coaching(years, days=0, **cadre):
    cadre = make_cadre_user(**cadre)
    coaching = CoachingFactory(
        cadre=cadre,
        coach=CoachFactory(user=UserFactory()),
        statut="termine",
        date_debut=years_ago(years + 1),
        date_fin=years_ago(years, days),
    )
    NoteCoach.objects.create(coaching=coaching, auteur=coaching.coach.user, texte="note")
    return cadre


def anonymised(cadre):
    return Cadre.objects.get(pk=cadre.pk).anonymise_le is not None


def test_the_default_period_is_five_years():
    assert settings.RGPD_RETENTION_YEARS == 5
    assert "rgpd.tasks.apply_retention" in {
        e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_files_closed_before_the_limit_are_anonymised_the_others_kept():
    past = closed_coaching(5, days=1)
    within = closed_coaching(5, days=-1)
    running = make_cadre_user()
    CoachingFactory(cadre=running, statut="en_cours", date_debut=years_ago(7))
    signed_in = closed_coaching(6)
    signed_in.user.last_login = timezone.now() - timedelta(days=30)
    signed_in.user.save()
    never = make_cadre_user()  # no programme at all: not this task's business

    report = services.apply_retention()

    assert report["cadres"] == 1
    assert anonymised(past)
    for kept in (within, running, signed_in, never):
        assert not anonymised(kept)
    # Private notes of programmes closed before the limit go, whoever the cadre is.
    assert not NoteCoach.objects.filter(coaching__cadre__in=[past, signed_in]).exists()
    assert NoteCoach.objects.filter(coaching__cadre=within).exists()


def test_an_open_request_keeps_the_file():
    cadre = closed_coaching(6)
    cadre.demandes.create(dispositif="mentorat", contexte="vivier", motivation="encore")
    services.apply_retention()
    assert not anonymised(cadre)


def test_the_period_comes_from_the_setting(settings):
    cadre = closed_coaching(4)
    services.apply_retention()
    assert not anonymised(cadre)
    settings.RGPD_RETENTION_YEARS = 3
    services.apply_retention()
    assert anonymised(cadre)


def test_every_scheme_counts_for_the_limit():
    old_group = GroupeFactory(date_debut=years_ago(7), date_fin=years_ago(6))
    new_group = GroupeFactory(date_debut=years_ago(1), date_fin=timezone.localdate())
    membre = MembreFactory(groupe=old_group, cadre=make_cadre_user())
    MembreFactory(groupe=new_group, cadre=membre.cadre)
    old_only = MembreFactory(groupe=old_group, cadre=make_cadre_user())
    seance = SeanceFactory(groupe=old_group, client=old_only, probleme="secret du groupe")
    PlanAction.objects.create(seance=seance, membre=membre, actions="plan ancien")
    immersion_cadre = make_cadre_user()
    ImmersionFactory(cadre=immersion_cadre, statut="terminee", jours=[years_ago(5, days=-10)])

    services.apply_retention()

    assert anonymised(old_only.cadre)
    assert not anonymised(membre.cadre)  # still in a running group
    assert not anonymised(immersion_cadre)  # its last day is within the period
    seance.refresh_from_db()
    assert seance.probleme == ""
    assert PlanAction.objects.get(seance=seance).actions == "[anonymisé]"


def test_dead_links_are_deleted_live_ones_kept():
    now = timezone.now()
    old = Invitation.objects.create(
        user=UserFactory(), cree_le=now - timedelta(days=8), envoyee_le=now - timedelta(days=8)
    )
    fresh = Invitation.objects.create(user=UserFactory(), envoyee_le=now)
    accepted = Invitation.objects.create(
        user=UserFactory(), cree_le=now - timedelta(days=30), envoyee_le=now, acceptee_le=now
    )
    feed_of_gone = CalendarFeed.objects.create(user=UserFactory(is_active=False))
    feed = CalendarFeed.objects.create(user=UserFactory())
    immersion = ImmersionFactory(
        statut=Immersion.Statut.ACCEPTEE, jours=[timezone.localdate() + timedelta(days=120)]
    )
    voided = immersion_services.prepare_convention(immersion)
    current = immersion_services.prepare_convention(immersion)
    Signature.objects.update(expire_le=now - timedelta(days=1))

    report = services.purge_expired_tokens()

    assert not Invitation.objects.filter(pk=old.pk).exists()
    assert Invitation.objects.filter(pk__in=[fresh.pk, accepted.pk]).count() == 2
    assert not CalendarFeed.objects.filter(pk=feed_of_gone.pk).exists()
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()
    assert not Signature.objects.filter(convention=voided).exists()
    assert Signature.objects.filter(convention=current).exists()
    assert report["invitations"] == 1 and report["agendas"] == 1


def test_running_twice_changes_nothing_the_second_time():
    cadre = closed_coaching(6)
    first = services.apply_retention()
    state = list(Cadre.objects.filter(pk=cadre.pk).values())
    second = services.apply_retention()
    assert (first["cadres"], second["cadres"]) == (1, 0)
    assert second["notes"] == 0
    assert list(Cadre.objects.filter(pk=cadre.pk).values()) == state


def test_the_beat_task_applies_it():
    cadre = closed_coaching(6)
    result = tasks.apply_retention.delay().get()
    assert result["cadres"] == 1
    assert anonymised(cadre)


def test_the_command_is_a_dry_run_unless_wet_run():
    cadre = closed_coaching(6)
    out = StringIO()
    call_command("rgpd_retention", stdout=out)
    assert "[simulation]" in out.getvalue() and "1 dossier(s)" in out.getvalue()
    assert not anonymised(cadre)
    assert NoteCoach.objects.filter(coaching__cadre=cadre).exists()
    call_command("rgpd_retention", "--wet-run", stdout=StringIO())
    assert anonymised(cadre)
