from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from . import importing
from .mail import build_mail
from .models import Invitation
from .tokens import invitation_token


def invitation_url(user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invitation_accept", args=[uid, invitation_token.make_token(user)])
    return f"{settings.SITE_URL}{path}"


@shared_task
def send_invitation(invitation_id):
    """Send one invitation mail. Idempotent: a sent invitation is never sent again,
    and the row lock keeps two concurrent runs from both sending."""
    with transaction.atomic():
        invitation = (
            # of=("self",): invite_par is nullable, PostgreSQL cannot lock the
            # nullable side of the outer join.
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "invite_par")
            .filter(pk=invitation_id, envoyee_le__isnull=True)
            .first()
        )
        if invitation is None:
            return False
        user = invitation.user
        build_mail(
            "cadres/email/invitation",
            {"user": user, "url": invitation_url(user), "invitation": invitation},
            to=user.email,
        ).send()
        invitation.envoyee_le = timezone.now()
        invitation.save(update_fields=["envoyee_le"])
    return True


@shared_task
def send_pending_invitations():
    """Beat sweep: send invitations whose task was lost (broker down, worker killed)."""
    grace = timezone.now() - timedelta(minutes=1)
    ids = Invitation.objects.filter(envoyee_le__isnull=True, cree_le__lt=grace).values_list(
        "pk", flat=True
    )
    return sum(send_invitation(pk) for pk in list(ids[:500]))


@shared_task
def analyse_import(job_id):
    """Dry run of an uploaded file: errors per row and what the import would do."""
    return importing.analyse(job_id)


@shared_task
def run_import(job_id):
    """Import the valid rows of a confirmed file. Idempotent and resumable."""
    return importing.run(job_id)


@shared_task
def requeue_stalled_imports():
    """Beat sweep: imports whose task was lost or whose worker died."""
    return importing.requeue_stalled()
