"""The Celery application: one worker pool and one beat share the Redis broker.

State lives in PostgreSQL (invitations, the outbox), never only in the broker, so a
lost message is caught up by the next periodic sweep.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("accompagnement")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
