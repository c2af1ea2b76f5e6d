"""Immersion paperwork: request, decision, convention versions, signatures by link,
reminders and feedback. Views, admin and tasks all call these."""

import hashlib
import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accompagnement.services import outbox
from accompagnement.workflow import check_step
from cadres.services import enqueue

from . import rules
from .models import Convention, Immersion, JourImmersion, Retour, Signature

LINK_VALIDITY = timedelta(days=30)
RELANCES = (3, 6, 9)  # days after sending: reminders to a signatory who has not signed
ALERTE_DELEGUE = 12  # then the délégué is alerted
SIGN_SALT = "immersion.signature"
FEEDBACK_SALT = "immersion.retour"

TRANSITIONS = {
    Immersion.Statut.DEMANDEE: {*Immersion.DECISIONS},
    Immersion.Statut.REPORTEE: {Immersion.Statut.ACCEPTEE, Immersion.Statut.REFUSEE},
    Immersion.Statut.ACCEPTEE: {Immersion.Statut.EN_SIGNATURE, Immersion.Statut.ANNULEE},
    Immersion.Statut.EN_SIGNATURE: {Immersion.Statut.SIGNEE, Immersion.Statut.ANNULEE},
    Immersion.Statut.SIGNEE: {
        Immersion.Statut.EN_SIGNATURE,
        Immersion.Statut.TERMINEE,
        Immersion.Statut.ANNULEE,
    },
    Immersion.Statut.REFUSEE: set(),
    Immersion.Statut.TERMINEE: set(),
    Immersion.Statut.ANNULEE: set(),
}

# What the convention states: a change to any of these makes a new version.
CONVENTION_FIELDS = [
    "structure_accueil",
    "lieu",
    "fonctions_observees",
    "tuteur_nom",
    "tuteur_fonction",
    "accueil_representant_nom",
    "accueil_representant_email",
    "employeur_representant_nom",
    "employeur_representant_email",
]


def _morning(day):
    return timezone.make_aware(datetime.combine(day, time(8, 0)))


def other_days(cadre, exclude=None):
    qs = JourImmersion.objects.filter(immersion__cadre=cadre).exclude(
        immersion__statut__in=Immersion.NOT_COUNTING
    )
    if exclude is not None and exclude.pk:
        qs = qs.exclude(immersion=exclude)
    return list(qs.values_list("date", flat=True))


def validate(cadre, days, recue_le, accord_delai_court=False, exclude=None):
    errors = rules.check_request(days, other_days(cadre, exclude), recue_le, accord_delai_court)
    if errors:
        raise ValidationError({"jours": errors})


# --- Request and decision ------------------------------------------------------


@transaction.atomic
def submit(cadre, days, *, by=None, accord_delai_court=False, **data):
    """The agent's request (portal) or one recorded by a délégué (admin)."""
    recue_le = data.pop("recue_le", None) or timezone.localdate()
    validate(cadre, days, recue_le, accord_delai_court)
    immersion = Immersion(
        cadre=cadre, recue_le=recue_le, accord_delai_court=accord_delai_court, **data
    )
    immersion.full_clean()
    immersion.save()
    JourImmersion.objects.bulk_create(
        [JourImmersion(immersion=immersion, date=d) for d in sorted(set(days))]
    )
    _deadline_reminders(immersion)
    return immersion


def _deadline_reminders(immersion):
    from cadres.perimeter import delegues_for

    deadline = rules.decision_deadline(immersion.recue_le)
    for delegue in delegues_for(immersion.cadre.structure)[:1]:
        outbox.notify("immersion_demande_recue", immersion, user=delegue)
        outbox.notify(
            "immersion_echeance",
            immersion,
            user=delegue,
            due_at=_morning(deadline) - timedelta(days=7),
        )


def check_decision(immersion, statut, motif):
    check_step(TRANSITIONS, Immersion.Statut(immersion.statut), statut, "Une immersion")
    if statut in (Immersion.Statut.REFUSEE, Immersion.Statut.REPORTEE) and not motif.strip():
        raise ValidationError(
            {"motif_decision": "Le refus ou le report doit être motivé : indiquez les raisons."}
        )


@transaction.atomic
def decide(immersion, statut, motif="", by=None):
    immersion = Immersion.objects.select_for_update().get(pk=immersion.pk)
    check_decision(immersion, statut, motif)
    immersion.statut = statut
    immersion.motif_decision = motif.strip()
    immersion.decidee_par = by
    immersion.decidee_le = timezone.now()
    immersion.save()
    outbox.cancel(immersion, kinds=["immersion_echeance"])
    outbox.notify(
        "immersion_decision",
        immersion,
        user=immersion.cadre.user,
        email=immersion.cadre.email,
        reference_at=immersion.decidee_le,
    )
    if statut == Immersion.Statut.ACCEPTEE:
        request_convention(immersion)
        # When the task ran at once (inline), it moved the immersion to "en signature".
        immersion.refresh_from_db(fields=["statut"])
    return immersion


# --- Convention ----------------------------------------------------------------


def content_fingerprint(immersion):
    stated = [str(getattr(immersion, f)) for f in CONVENTION_FIELDS]
    stated += [d.isoformat() for d in sorted(immersion.dates)]
    stated += [immersion.cadre.nom, immersion.cadre.prenom, immersion.cadre.email]
    return hashlib.sha256("\x1f".join(stated).encode()).hexdigest()


def render_pdf(immersion, version):
    from weasyprint import HTML

    html = render_to_string(
        "immersion/convention.html",
        {
            "immersion": immersion,
            "version": version,
            "jours": sorted(immersion.dates),
            "product_name": settings.PRODUCT_NAME,
        },
    )
    return HTML(string=html).write_pdf()


def signatories(immersion):
    return [
        (Signature.Partie.AGENT, str(immersion.cadre), immersion.cadre.email),
        (
            Signature.Partie.EMPLOYEUR,
            immersion.employeur_representant_nom,
            immersion.employeur_representant_email,
        ),
        (
            Signature.Partie.ACCUEIL,
            immersion.accueil_representant_nom,
            immersion.accueil_representant_email,
        ),
    ]


@transaction.atomic
def prepare_convention(immersion):
    """Generate a new version (voiding the previous one and its signatures) and ask
    each party to sign. The PDF is rendered here; mails leave through the outbox."""
    immersion = Immersion.objects.select_for_update().get(pk=immersion.pk)
    now = timezone.now()
    previous = immersion.current_convention()
    if previous is not None:
        void_convention(previous, now)
    last = immersion.conventions.order_by("-version").first()
    version = (last.version + 1) if last else 1
    pdf = render_pdf(immersion, version)
    convention = Convention.objects.create(
        immersion=immersion,
        version=version,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        contenu=content_fingerprint(immersion),
    )
    for partie, nom, email in signatories(immersion):
        signature = Signature.objects.create(
            convention=convention,
            partie=partie,
            nom=nom,
            email=email,
            nonce=secrets.token_hex(16),
            expire_le=now + LINK_VALIDITY,
        )
        ask_to_sign(signature, now)
    immersion.statut = Immersion.Statut.EN_SIGNATURE
    immersion.save(update_fields=["statut"])
    return convention


def void_convention(convention, now):
    """A version stops binding anyone: its links die, its parties are told, and the
    day reminders of a signed version go (the next version schedules its own)."""
    immersion = convention.immersion
    outbox.cancel(immersion, kinds=["immersion_rappel_debut", "immersion_demande_retour"])
    convention.annulee_le = now
    convention.save(update_fields=["annulee_le"])
    for signature in convention.signatures.all():
        outbox.cancel(signature)
        outbox.notify(
            "immersion_convention_annulee", signature, email=signature.email, reference_at=now
        )


def request_convention(immersion):
    """Render the convention in a task after commit (the beat sweep catches up if the
    broker is down): a PDF is not made while the délégué waits."""
    from .tasks import generate_convention

    enqueue(generate_convention, immersion.pk)


@transaction.atomic
def generate_if_due(immersion_id):
    """Task body: an accepted immersion without a current convention gets one."""
    immersion = Immersion.objects.select_for_update().filter(pk=immersion_id).first()
    if immersion is None or immersion.statut != Immersion.Statut.ACCEPTEE:
        return None
    if immersion.current_convention() is not None:
        return None
    return prepare_convention(immersion)


def ask_to_sign(signature, now):
    outbox.notify("immersion_signature", signature, email=signature.email, reference_at=now)
    for days in RELANCES:
        outbox.notify(
            "immersion_relance_signature",
            signature,
            email=signature.email,
            due_at=now + timedelta(days=days),
        )
    for delegue in _delegues(signature.convention.immersion):
        outbox.notify(
            "immersion_alerte_signature",
            signature,
            user=delegue,
            due_at=now + timedelta(days=ALERTE_DELEGUE),
        )


def _delegues(immersion):
    from cadres.perimeter import delegues_for

    return delegues_for(immersion.cadre.structure)[:1]


def signature_token(signature):
    return signing.dumps({"s": signature.pk, "n": signature.nonce}, salt=SIGN_SALT)


def signature_url(signature):
    return settings.SITE_URL + reverse("immersion_public:signer", args=[signature_token(signature)])


def signature_from_token(token):
    """The signature a link stands for, or None: forged, voided, expired or used."""
    try:
        data = signing.loads(token, salt=SIGN_SALT, max_age=LINK_VALIDITY)
    except signing.BadSignature:
        return None
    signature = (
        Signature.objects.select_related("convention__immersion__cadre")
        .filter(pk=data.get("s"), nonce=data.get("n"))
        .first()
    )
    if signature is None or signature.convention.annulee_le or signature.expire_le < timezone.now():
        return None
    return signature


@transaction.atomic
def sign(signature, nom, ip):
    # Lock the immersion first (as prepare_convention does): two parties signing at the
    # same moment must not both miss that the convention became fully signed, and a new
    # version cannot void this one between the check and the signature.
    Immersion.objects.select_for_update().get(pk=signature.convention.immersion_id)
    signature = Signature.objects.select_for_update().get(pk=signature.pk)
    if signature.signe_le:
        raise ValidationError("Cette convention a déjà été signée avec ce lien.")
    if not nom.strip():
        raise ValidationError({"nom": "Indiquez vos nom et prénom pour signer."})
    convention = signature.convention
    if convention.annulee_le:
        raise ValidationError("Cette version de la convention a été remplacée.")
    signature.signe_le = timezone.now()
    signature.nom_signe = nom.strip()[:150]
    signature.ip = ip
    signature.document_sha256 = convention.sha256
    signature.save()
    outbox.cancel(signature)
    if convention.fully_signed:
        immersion = convention.immersion
        immersion.statut = Immersion.Statut.SIGNEE
        immersion.save(update_fields=["statut"])
        for other in convention.signatures.all():
            outbox.notify(
                "immersion_convention_signee",
                other,
                email=other.email,
                reference_at=signature.signe_le,
            )
        _schedule_days_reminders(immersion)
    return signature


def _schedule_days_reminders(immersion):
    days = sorted(immersion.dates)
    first, last = days[0], days[-1]
    for email, user in (
        (immersion.cadre.email, immersion.cadre.user),
        (immersion.tuteur_email, None),
    ):
        outbox.notify(
            "immersion_rappel_debut",
            immersion,
            user=user,
            email=email,
            due_at=_morning(first) - timedelta(days=3),
        )
        outbox.notify(
            "immersion_demande_retour",
            immersion,
            user=user,
            email=email,
            due_at=_morning(last) + timedelta(days=1),
        )


@transaction.atomic
def update(immersion, days=None, **changes):
    """Change an immersion's data. When the change touches what the convention states,
    the convention in signature (or signed) is replaced by a new version."""
    immersion = Immersion.objects.select_for_update().get(pk=immersion.pk)
    for field, value in changes.items():
        setattr(immersion, field, value)
    if days is not None:
        validate(immersion.cadre, days, immersion.recue_le, immersion.accord_delai_court, immersion)
    immersion.full_clean()
    immersion.save()
    if days is not None:
        immersion.jours.all().delete()
        JourImmersion.objects.bulk_create(
            [JourImmersion(immersion=immersion, date=d) for d in sorted(set(days))]
        )
    convention = immersion.current_convention()
    if convention is not None and convention.contenu != content_fingerprint(immersion):
        if immersion.statut not in (Immersion.Statut.EN_SIGNATURE, Immersion.Statut.SIGNEE):
            # A finished or cancelled immersion must not go back into signature.
            raise ValidationError(
                f"Immersion {immersion.get_statut_display().lower()} : ce que la convention "
                "énonce (parties, fonctions observées, lieu, jours) ne peut plus changer."
            )
        # The old links die at once; the new version is rendered by a task.
        void_convention(convention, timezone.now())
        immersion.statut = Immersion.Statut.ACCEPTEE
        immersion.save(update_fields=["statut"])
        request_convention(immersion)
        return immersion.current_convention()
    return convention


# --- Feedback ------------------------------------------------------------------


def feedback_token(immersion):
    return signing.dumps({"i": immersion.pk}, salt=FEEDBACK_SALT)


def immersion_from_feedback_token(token, max_age=timedelta(days=90)):
    try:
        data = signing.loads(token, salt=FEEDBACK_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return Immersion.objects.filter(pk=data.get("i")).first()


@transaction.atomic
def record_feedback(immersion, auteur, confirme_projet, suite=""):
    if immersion.statut not in (Immersion.Statut.SIGNEE, Immersion.Statut.TERMINEE):
        raise ValidationError(
            "Le retour se fait après une immersion dont la convention est signée."
        )
    if max(immersion.dates) > timezone.localdate():
        raise ValidationError("Le retour se fait après le dernier jour de l'immersion.")
    retour, created = Retour.objects.get_or_create(
        immersion=immersion,
        auteur=auteur,
        defaults={"confirme_projet": confirme_projet, "suite": suite.strip()},
    )
    if not created:
        raise ValidationError("Ce retour a déjà été donné. Merci !")
    if immersion.statut == Immersion.Statut.SIGNEE:
        immersion.statut = Immersion.Statut.TERMINEE
        immersion.save(update_fields=["statut"])
    return retour
