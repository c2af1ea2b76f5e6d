"""The reminder sweep reads a batch's sessions and their participants in a constant
number of queries: one more message costs at most the UPDATE that marks it sent (the
issue 10 budget: 10,000 reminders in under 30 s with one worker)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accompagnement.models import Notification
from accompagnement.services import outbox
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    MembreFactory,
    MentoratFactory,
    MentorFactory,
    SeanceCoachingFactory,
    SeanceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def with_account(**kwargs):
    return CadreFactory(user=UserFactory(), **kwargs)


def sessions_of_every_scheme(count):
    from mentorat.models import Rencontre

    soon = timezone.now() + timedelta(days=10)
    for _ in range(count):
        coaching = CoachingFactory(
            cadre=with_account(), coach=CoachFactory(user=UserFactory()), statut="en_cours"
        )
        SeanceCoachingFactory(coaching=coaching, debut=soon)
        mentorat = MentoratFactory(
            mentore=with_account(), mentor=MentorFactory(), statut="en_cours"
        )
        Rencontre.objects.create(mentorat=mentorat, debut=soon)
        seance = SeanceFactory(debut=soon)
        for _ in range(3):
            MembreFactory(groupe=seance.groupe, cadre=with_account())


def sweep_queries():
    Notification.objects.filter(statut="en_attente").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    due = Notification.objects.due().count()
    with CaptureQueriesContext(connection) as queries:
        claimed, sent = outbox.send_due(batch_size=1000)
    assert claimed == sent == due > 0
    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    return sent, statements.count("SELECT"), len(statements) - statements.count("SELECT")


def test_a_bigger_batch_costs_one_update_per_extra_message(settings):
    settings.SESSION_REMINDERS = {"j1": timedelta(days=1)}
    sessions_of_every_scheme(1)
    small_sent, small_reads, small_writes = sweep_queries()
    sessions_of_every_scheme(4)
    large_sent, large_reads, large_writes = sweep_queries()
    assert large_sent > small_sent
    # Reads per batch: the claim, then one per model of session (and its prefetch).
    assert large_reads == small_reads
    # Writes: the claim's, then one UPDATE per message sent at most (fewer when several
    # sends end together and are marked at once).
    assert large_writes - small_writes <= large_sent - small_sent


def test_every_session_model_names_real_relations_for_its_participants():
    from django.apps import apps

    from accompagnement.models import Session

    models = [m for m in apps.get_models() if issubclass(m, Session)]
    assert len(models) >= 4
    for model in models:
        list(model.with_participants(model.objects.all()))  # FieldError on a bad path
