"""Business rules of the cadres app, called by the admin, the portal and the tasks."""

import logging

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import Cadre, Invitation, Role, User

logger = logging.getLogger(__name__)

DELEGUES_GROUP = "Délégués à l'encadrement supérieur"


def enqueue(task, *args):
    """Queue a Celery task once the transaction commits, never failing the request.

    Whatever a task does is recorded in the database first; when the broker is down
    the periodic sweep picks the row up later, so logging is enough here.
    """

    def _send():
        try:
            task.delay(*args)
        except (OperationalError, OSError):  # broker unreachable: the sweep will catch up
            logger.warning("Broker unreachable, %s%s left to the sweep", task.name, args)

    transaction.on_commit(_send)


def sync_access(user):
    """Derive staff status and admin groups from the user's roles (roles are data)."""
    kinds = set(user.roles.values_list("kind", flat=True))
    is_admin = Role.Kind.ADMINISTRATEUR in kinds
    is_delegue = Role.Kind.DELEGUE in kinds
    group, _ = Group.objects.get_or_create(name=DELEGUES_GROUP)
    if is_delegue:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    # A superuser made outside roles (createsuperuser) keeps its rights.
    user.is_superuser = is_admin or (user.is_superuser and not user.roles.exists())
    user.is_staff = user.is_superuser or is_delegue
    User.objects.filter(pk=user.pk).update(is_staff=user.is_staff, is_superuser=user.is_superuser)


def grant_role(user, kind, structures=()):
    role, _ = Role.objects.get_or_create(user=user, kind=kind)
    if structures:
        role.structures.set(structures)
    sync_access(user)
    return role


def account_for(cadre):
    """The cadre's user account, created (without a usable password) if missing."""
    if cadre.user_id:
        return cadre.user
    user = User.objects.filter(email__iexact=cadre.email).first()
    if user is None:
        user = User.objects.create_user(
            email=cadre.email, first_name=cadre.prenom, last_name=cadre.nom
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    cadre.user = user
    cadre.save(update_fields=["user"])
    return user


@transaction.atomic
def invite(user, invited_by=None):
    """Record an invitation; the mail leaves after commit (or with the next sweep)."""
    from .tasks import send_invitation

    invitation = Invitation.objects.create(user=user, invite_par=invited_by)
    enqueue(send_invitation, invitation.pk)
    return invitation


@transaction.atomic
def invite_cadre(cadre: Cadre, invited_by=None):
    return invite(account_for(cadre), invited_by)


def mark_invitation_accepted(user):
    Invitation.objects.filter(user=user, acceptee_le__isnull=True).update(
        acceptee_le=timezone.now()
    )
