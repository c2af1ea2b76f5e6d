"""Personal-data rights and retention: the export of everything held about a cadre,
their anonymisation, and the retention sweep. The admin, the portal, the Celery task
and the management command all call these functions."""

from datetime import timedelta

from auditlog.context import disable_auditlog
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accompagnement.models import CalendarFeed, Demande, Evaluation, Notification
from cadres.models import Cadre, Invitation, Role, User
from cohortes.models import MembreCohorte
from parcours.models import DocumentParcours

from .models import Trace
from .schemes import ANONYMOUS_EMAIL, PLACEHOLDER, all_personal_data, serialize

# --- Export ------------------------------------------------------------------------


def export_data(cadre):
    """Everything held about ``cadre``, as JSON-ready data (right of access, art. 15,
    and to portability, art. 20). Private notes written by others (a coach's notes) and
    the content of co-development séances brought by other members are not theirs."""
    user = cadre.user
    data = {
        "genere_le": timezone.now(),
        "profil": serialize(
            Cadre.objects.select_related("structure", "responsable").get(pk=cadre.pk),
            exclude={"user"},
        ),
        "viviers": [str(v) for v in cadre.viviers.all()],
        "compte": None,
        "demandes": [
            serialize(d, exclude={"cadre", "programme_type", "programme_id"})
            for d in Demande.objects.filter(cadre=cadre).select_related("delegue", "decidee_par")
        ],
        "dispositifs": {},
        "evaluations": [],
        "notifications": [],
        "journal_d_audit": [
            {
                "le": t.timestamp,
                "action": t.get_action_display(),
                "objet": t.object_repr,
                "par": t.actor_email or "",
                "page": t.chemin,
            }
            for t in Trace.objects.filter(cadre=cadre).order_by("timestamp")
        ],
    }
    if user is not None:
        data["compte"] = {
            "email": user.email,
            "cree_le": user.date_joined,
            "derniere_connexion": user.last_login,
            "roles": [r.get_kind_display() for r in user.roles.all()],
        }
        data["evaluations"] = [
            serialize(e, exclude={"participant", "programme_type", "cadre"})
            for e in Evaluation.objects.filter(participant=user)
        ]
        data["notifications"] = [
            {
                "type": n.kind,
                "adresse": n.email,
                "prevue_le": n.due_at,
                "statut": n.get_statut_display(),
                "envoyee_le": n.sent_at,
            }
            for n in Notification.objects.filter(recipient=user).order_by("due_at")
        ]
    for scheme, personal in all_personal_data():
        data["dispositifs"][scheme.dispositif] = personal.export(cadre)
    # The bilan de parcours and plan individuel of their file: what, when, where (the
    # files themselves are downloaded from the file's page).
    data["documents_de_parcours"] = [
        {
            "nature": d.get_nature_display(),
            "date": d.date,
            "reference": d.reference,
            "fichier": d.nom_fichier,
            "ajoute_le": d.ajoute_le,
        }
        for d in DocumentParcours.objects.filter(cadre=cadre).defer("contenu")
    ]
    data["programmes_de_cohorte"] = [
        {
            "programme": m.cohorte.nom,
            "structure": str(m.cohorte.structure),
            "du": m.cohorte.date_debut,
            "au": m.cohorte.date_fin,
            "statut": m.cohorte.get_statut_display(),
        }
        for m in MembreCohorte.objects.filter(cadre=cadre).select_related("cohorte__structure")
    ]
    return data


# --- Anonymisation -------------------------------------------------------------------


def anonymised_email(prefix, pk):
    return f"{prefix}-{pk}@anonymise.invalid"


@transaction.atomic
def anonymise_cadre(cadre, by=None, reason="demande d'effacement"):
    """Erase the identity of ``cadre`` and what is written about them, keeping the rows
    that the figures count (requests, programmes, sessions, their dates and statuses,
    structure and civilité). One transaction; a second call does nothing (False).

    The audit trail keeps who did what and when about this cadre, with the values
    changed redacted, plus one entry for the anonymisation itself."""
    cadre = Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    if cadre is None or cadre.anonymise_le is not None:
        return False
    # Not through auditlog: the log of the change would keep the names being erased.
    with disable_auditlog():
        for _scheme, personal in all_personal_data():
            personal.anonymise(cadre)
        Demande.objects.filter(cadre=cadre).update(motivation=PLACEHOLDER)
        Demande.objects.filter(cadre=cadre).exclude(motif_decision="").update(
            motif_decision=PLACEHOLDER
        )
        Evaluation.objects.filter(cadre=cadre).update(commentaire="")
        # Their bilan and plan are about them only and count in no figure: erased.
        DocumentParcours.objects.filter(cadre=cadre).delete()
        if cadre.user_id:
            _anonymise_account(cadre.user)
        Notification.objects.filter(email__iexact=cadre.email).update(
            email=ANONYMOUS_EMAIL, context={}
        )
        cadre.nom, cadre.prenom = "ANONYME", f"Cadre {cadre.pk}"
        cadre.email = anonymised_email("cadre", cadre.pk)
        cadre.telephone = cadre.corps = cadre.grade = cadre.fonction = ""
        cadre.matricule = None
        cadre.responsable = None
        cadre.date_prise_poste = None
        cadre.anonymise_le = timezone.now()
        cadre.save()
        Cadre.objects.filter(responsable=cadre).update(responsable=None)
        # The history stays (who did what, when); the values it held about them go.
        Trace.objects.filter(cadre=cadre).update(
            object_repr=str(cadre), changes=None, changes_text="", serialized_data=None
        )
    Trace.objects.log_create(
        cadre,
        force_log=True,
        action=Trace.Action.UPDATE,
        changes={"anonymisation": [reason, timezone.now().isoformat()]},
        actor=by,
        actor_email=getattr(by, "email", None),
    )
    return True


def _anonymise_account(user):
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    # Pending mails to them are not sent; sent ones keep only that they were sent.
    Notification.objects.filter(recipient=user, statut=Notification.Statut.EN_ATTENTE).update(
        statut=Notification.Statut.ANNULEE
    )
    Notification.objects.filter(recipient=user).update(email=ANONYMOUS_EMAIL, context={})
    for model in (EmailAddress, Authenticator, SocialAccount, CalendarFeed, Invitation, Role):
        model.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(
        email=anonymised_email("compte", user.pk),
        first_name="",
        last_name="",
        is_active=False,
        is_staff=False,
        is_superuser=False,
        password=make_password(None),
    )
    Trace.objects.filter(actor=user).update(actor_email=None)


# --- Retention -----------------------------------------------------------------------


def retention_cutoff(now=None, years=None):
    years = settings.RGPD_RETENTION_YEARS if years is None else years
    return timezone.localdate(now) - relativedelta(years=years)


def retention_candidates(cutoff):
    """Cadres whose every programme (and request) closed before ``cutoff``, who have no
    open one and have not signed in since: their file is past its retention period."""
    known, active = set(), set()
    for _scheme, personal in all_personal_data():
        retention = personal.retention()
        known.update(retention.known())
        active.update(retention.active(cutoff))
    requests = Demande.objects.filter(cadre_id__in=known)
    active.update(
        requests.filter(statut__in=Demande.OPEN_STATUSES).values_list("cadre_id", flat=True)
    )
    active.update(requests.filter(recue_le__date__gte=cutoff).values_list("cadre_id", flat=True))
    return (
        Cadre.objects.filter(pk__in=known - active, anonymise_le__isnull=True)
        .exclude(user__last_login__date__gte=cutoff)
        .order_by("pk")
    )


def purge_expired_tokens(now=None):
    """Links that can no longer be used, and what only served them: unaccepted
    invitations past their validity, unsigned signature links of voided conventions,
    calendar feeds of deactivated accounts, expired sessions. Returns counts."""
    from django.contrib.sessions.models import Session

    from immersion.models import Signature

    now = now or timezone.now()
    counts = {}
    counts["invitations"], _ = Invitation.objects.filter(
        acceptee_le__isnull=True,
        envoyee_le__isnull=False,
        cree_le__lt=now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    ).delete()
    counts["signatures"], _ = Signature.objects.filter(
        signe_le__isnull=True, expire_le__lt=now, convention__annulee_le__isnull=False
    ).delete()
    counts["agendas"], _ = CalendarFeed.objects.filter(user__is_active=False).delete()
    counts["sessions"], _ = Session.objects.filter(expire_date__lt=now).delete()
    return counts


def apply_retention(now=None, dry_run=False):
    """The retention sweep: anonymise the files past the retention period, erase the
    private notes of programmes closed before it, delete dead links. Idempotent."""
    cutoff = retention_cutoff(now)
    candidates = list(retention_candidates(cutoff))
    report = {"limite": cutoff, "cadres": len(candidates), "notes": 0, "liens": {}}
    if dry_run:
        return report
    for cadre in candidates:
        anonymise_cadre(cadre, reason="durée de conservation écoulée")
    with transaction.atomic():
        for _scheme, personal in all_personal_data():
            report["notes"] += personal.retention().erase_closed(cutoff)
    report["liens"] = purge_expired_tokens(now)
    return report
