from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ObjectDoesNotExist

from .services import DELEGUES_GROUP, sync_access

# What a délégué may do in the admin, inside their perimeter. Every model of the
# project's apps gets view/add/change (deletion stays with administrators), except
# the referentials and accounts below, which they may only read or not see at all.
DELEGUE_READ_ONLY = {
    "cadres.structure",
    "cadres.vivier",
    "cadres.invitation",
    "mentorat.domaine",
    # The audit trail: read within the perimeter, written by nobody (rgpd.admin).
    "rgpd.trace",
}
# Private notes are their author's alone: no permission on them for anyone.
DELEGUE_HIDDEN = {"cadres.role", "cadres.user", "coaching.notecoach", "mentorat.noteprivee"}


def role_changed(sender, instance, **kwargs):
    try:
        user = instance.user
    except ObjectDoesNotExist:  # the user itself is being deleted
        return
    sync_access(user)


def perimeter_changed(sender, instance, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        instance.user.__dict__.pop("_perimeter_paths", None)


def _project_models():
    base = str(settings.BASE_DIR)
    for app_config in apps.get_app_configs():
        if app_config.path.startswith(base) and "site-packages" not in app_config.path:
            yield from app_config.get_models()


def delegue_permissions():
    codenames = []
    for model in _project_models():
        label = model._meta.label_lower
        if label in DELEGUE_HIDDEN:
            continue
        actions = ["view"] if label in DELEGUE_READ_ONLY else ["view", "add", "change"]
        codenames += [(model._meta.app_label, f"{a}_{model._meta.model_name}") for a in actions]
    return codenames


def ensure_delegue_permissions(**kwargs):
    # Runs after each app's migrations: idempotent, and complete after the last one.
    group, _ = Group.objects.get_or_create(name=DELEGUES_GROUP)
    wanted = delegue_permissions()
    perms = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={code for _, code in wanted},
    ).select_related("content_type")
    group.permissions.set([p for p in perms if (p.content_type.app_label, p.codename) in wanted])


def name_the_site(**kwargs):
    """Mails of allauth name the Site: make it the product, at SITE_URL's host."""
    from urllib.parse import urlsplit

    from django.contrib.sites.models import Site

    Site.objects.update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlsplit(settings.SITE_URL).netloc, "name": settings.PRODUCT_NAME},
    )
