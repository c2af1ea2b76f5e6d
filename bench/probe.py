"""The Django side of ``bench/run.py``, run in the database of one size:

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... python -m bench.probe

Chooses who visits each page (the same kind of person at every size), signs them in
by creating their session directly (as ``Client.force_login`` does: staff have their
TOTP device, which is all the MFA middleware asks), checks that each page answers
200, counts its SQL queries (the second of two calls through the test client, so
that per-process caches are warm as in a running server), and prints one JSON
object: for each page, its URL, session cookie and query count."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Exists, OuterRef, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.urls import BARE_PATH  # noqa: E402
from cadres.models import Cadre, Role, User  # noqa: E402
from coaching.models import Coaching  # noqa: E402
from codev.models import Groupe, Membre, Seance  # noqa: E402
from immersion.models import Immersion  # noqa: E402
from mentorat.models import Mentorat  # noqa: E402

HOST = "127.0.0.1"
BACKEND = "django.contrib.auth.backends.ModelBackend"


class ProbeError(Exception):
    pass


def busy_cadre():
    """A cadre with a coaching and a mentoring relation under way, a group not over
    and an immersion: the fullest portal home, the first such by key (``seed_scale``
    makes its first cadre so, at every size)."""
    today = timezone.localdate()
    coaching = Coaching.objects.filter(cadre=OuterRef("pk"), statut=Coaching.Statut.EN_COURS)
    mentorat = Mentorat.objects.filter(mentore=OuterRef("pk"), statut=Mentorat.Statut.EN_COURS)
    groupe = Membre.objects.filter(
        cadre=OuterRef("pk"), date_sortie__isnull=True, groupe__date_fin__gte=today
    )
    immersion = Immersion.objects.filter(cadre=OuterRef("pk")).exclude(
        statut=Immersion.Statut.ANNULEE
    )
    base = Cadre.objects.filter(user__isnull=False).order_by("pk")
    for conditions in (
        [Exists(coaching), Exists(mentorat), Exists(groupe), Exists(immersion)],
        [Exists(coaching), Exists(mentorat), Exists(groupe)],
        [Exists(coaching), Exists(mentorat)],
        [Exists(coaching)],
    ):
        cadre = base.filter(*conditions).select_related("user").first()
        if cadre is not None:
            return cadre.user
    raise ProbeError("aucun cadre avec un coaching en cours : jeu de données incomplet")


def busy_group():
    """A group under way with séances still to come, and its animateur."""
    upcoming = Seance.objects.filter(
        groupe=OuterRef("pk"), debut__gt=timezone.now(), statut=Seance.Statut.PLANIFIEE
    )
    groupe = (
        Groupe.objects.filter(Exists(upcoming))
        .annotate(nb=Count("membres"))
        .order_by("-nb", "pk")
        .select_related("animateur")
        .first()
    )
    if groupe is None:
        raise ProbeError("aucun groupe de codéveloppement en cours : jeu de données incomplet")
    return groupe


def largest_delegue():
    """The délégué of the ministry with the most cadres."""
    best, best_count = None, -1
    for user in User.objects.filter(roles__kind=Role.Kind.DELEGUE).order_by("pk"):
        count = Cadre.objects.visible_to(user).count()
        if count > best_count:
            best, best_count = user, count
    if best is None:
        raise ProbeError("aucun délégué : lancez seed_scale d'abord")
    return best


def national_admin():
    user = (
        User.objects.filter(Q(is_superuser=True) | Q(roles__kind=Role.Kind.ADMINISTRATEUR))
        .order_by("pk")
        .first()
    )
    if user is None:
        raise ProbeError("aucun administrateur national : lancez seed_scale d'abord")
    return user


def pages():
    """(key, label, url, visitor or None)."""
    groupe = busy_group()
    delegue, admin = largest_delegue(), national_admin()
    return [
        ("bare", "vue constante (limite)", "/" + BARE_PATH, None),
        ("home", "accueil du portail (cadre)", reverse("portal:home"), busy_cadre()),
        (
            "groupe",
            "page du groupe (animateur)",
            reverse("codev:groupe", args=[groupe.pk]),
            groupe.animateur,
        ),
        ("dashboard", "tableau de bord (délégué)", reverse("admin_dashboard"), delegue),
        ("admin_cadres", "admin : cadres", reverse("admin:cadres_cadre_changelist"), admin),
        (
            "admin_coachings",
            "admin : coachings (séances)",
            reverse("admin:coaching_coaching_changelist"),
            admin,
        ),
        (
            "admin_immersions",
            "admin : immersions",
            reverse("admin:immersion_immersion_changelist"),
            admin,
        ),
    ]


def probe():
    out = {}
    sessions = {}
    for key, label, url, visitor in pages():
        client = Client(HTTP_HOST=HOST)
        cookie = ""
        if visitor is not None:
            if visitor.pk not in sessions:
                client.force_login(visitor, backend=BACKEND)
                sessions[visitor.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[visitor.pk]
            cookie = f"{settings.SESSION_COOKIE_NAME}={sessions[visitor.pk]}"
        client.get(url, secure=True)  # warms the per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, secure=True)
        if response.status_code != 200:
            raise ProbeError(f"{label} ({url}) a répondu {response.status_code}, pas 200")
        out[key] = {
            "label": label,
            "url": url,
            "cookie": cookie,
            "visitor": visitor.email if visitor else "",
            "queries": len(queries),
        }
    return out


if __name__ == "__main__":
    try:
        result = probe()
    except ProbeError as error:
        print(f"bench.probe : {error}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(result))
