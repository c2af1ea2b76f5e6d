"""Immersion paperwork: request, decision, convention versions, signatures by link,
reminders and feedback. Views, admin and tasks all call these."""

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accompagnement.services import outbox
from accompagnement.workflow import check_step
from cadres.services import enqueue

from . import convention as stated
from . import rules
from .models import Convention, Immersion, JourImmersion, Retour, Signataire, Signature

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


def _morning(day):
    return timezone.make_aware(datetime.combine(day, time(8, 0)))


def other_days(cadre, exclude=None):
    """The agent's days in the ceiling: planned ones, then those done once the
    feedback is in (``JourImmersionQuerySet.counting``)."""
    qs = JourImmersion.objects.counting().filter(immersion__cadre=cadre)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(immersion=exclude)
    return list(qs.values_list("date", flat=True))


def validate(cadre, days, recue_le, accord_delai_court=False, exclude=None):
    errors = rules.check_request(days, other_days(cadre, exclude), recue_le, accord_delai_court)
    if errors:
        raise ValidationError({"jours": errors})


# --- Request and decision ------------------------------------------------------


@transaction.atomic
def submit(cadre, days, *, by=None, accord_delai_court=False, signataires=(), **data):
    """The agent's request (portal) or one recorded by a délégué (admin).
    ``signataires``: further signatories, dicts of partie, nom, fonction, email."""
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
    _set_signataires(immersion, signataires)
    _deadline_reminders(immersion)
    return immersion


def _set_signataires(immersion, signataires):
    """Replace the further signatories (each checked; French errors on refusal)."""
    rows = [
        Signataire(
            immersion=immersion,
            partie=s["partie"],
            nom=(s.get("nom") or "").strip(),
            fonction=(s.get("fonction") or "").strip(),
            email=(s.get("email") or "").strip().lower(),
        )
        for s in signataires
    ]
    for row in rows:
        row.full_clean(exclude=["immersion"])
    immersion.autres_signataires.all().delete()
    Signataire.objects.bulk_create(rows)


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
    """Fingerprint of what the convention states (``immersion.convention``)."""
    return stated.fingerprint(stated.stated_content(immersion))


def render_pdf(immersion, version):
    """The PDF states ``stated_content`` and nothing else of the immersion, so that
    its fingerprint covers everything the document says."""
    from weasyprint import HTML

    content = stated.stated_content(immersion)
    html = render_to_string(
        "immersion/convention.html",
        {
            "c": content,
            "parties": stated.parties_for_display(content),
            "reference": f"IMM-{immersion.pk}",
            "version": version,
            "product_name": settings.PRODUCT_NAME,
        },
    )
    return HTML(string=html).write_pdf()


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
    for signataire in stated.signatories(immersion):
        signature = Signature.objects.create(
            convention=convention,
            **signataire,
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


class Lien(enum.Enum):
    """What a signature link is worth, for the page that answers it."""

    VALIDE = "valide"
    INVALIDE = "invalide"  # not one of ours (forged, truncated)
    EXPIRE = "expire"  # older than 30 days
    REMPLACE = "remplace"  # renewed: a newer link was sent
    ANNULE = "annule"  # its version was voided by a change to the convention


def resolve_signature_token(token):
    """``(signature, Lien.VALIDE)`` or ``(None, why)``. A token that carries our
    signature but an old nonce can only be a link we sent and later renewed."""
    try:
        data = signing.loads(token, salt=SIGN_SALT, max_age=LINK_VALIDITY)
    except signing.SignatureExpired:
        return None, Lien.EXPIRE
    except signing.BadSignature:
        return None, Lien.INVALIDE
    if not isinstance(data, dict):
        return None, Lien.INVALIDE
    signature = (
        Signature.objects.select_related("convention__immersion__cadre")
        .filter(pk=data.get("s"))
        .first()
    )
    if signature is None:
        return None, Lien.INVALIDE
    if signature.nonce != data.get("n"):
        return None, Lien.REMPLACE
    if signature.convention.annulee_le:
        return None, Lien.ANNULE
    if signature.expire_le < timezone.now():
        return None, Lien.EXPIRE
    return signature, Lien.VALIDE


def signature_from_token(token):
    """The signature a link stands for, or None: forged, voided, expired or renewed."""
    return resolve_signature_token(token)[0]


@transaction.atomic
def renew_link(signature, by=None):
    """A new personal link for a signatory who has not signed, valid 30 days from
    now; the old one dies at once (new nonce) and its pending reminders with it."""
    Immersion.objects.select_for_update().get(pk=signature.convention.immersion_id)
    signature = (
        Signature.objects.select_for_update().select_related("convention").get(pk=signature.pk)
    )
    if signature.signe_le:
        raise ValidationError(f"{signature.nom} a déjà signé : il n'y a pas de lien à renouveler.")
    if signature.convention.annulee_le:
        raise ValidationError(
            "Cette version de la convention a été remplacée : les signataires ont reçu un "
            "lien pour la nouvelle version."
        )
    now = timezone.now()
    outbox.cancel(signature)
    signature.nonce = secrets.token_hex(16)
    signature.expire_le = now + LINK_VALIDITY
    signature.save(update_fields=["nonce", "expire_le"])
    ask_to_sign(signature, now)
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
def update(immersion, days=None, signataires=None, **changes):
    """Change an immersion's data. Only a change to what the convention states (its
    fingerprint) replaces the convention in signature, or signed, by a new version
    and voids its signatures; anything else is saved and voids nothing.
    ``signataires``, when given, replaces the further signatories."""
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
    if signataires is not None:
        _set_signataires(immersion, signataires)
    convention = immersion.current_convention()
    if convention is not None and convention.contenu != content_fingerprint(immersion):
        signing_open = immersion.statut in (Immersion.Statut.EN_SIGNATURE, Immersion.Statut.SIGNEE)
        if not signing_open or immersion.commencee_le:
            # A finished or cancelled immersion must not go back into signature.
            etat = "commencée" if immersion.commencee_le else immersion.get_statut_display().lower()
            raise ValidationError(
                f"Immersion {etat} : ce que la convention énonce (parties, signataires, "
                "fonctions observées, lieu, jours) ne peut plus changer."
            )
        # The old links die at once; the new version is rendered by a task.
        void_convention(convention, timezone.now())
        immersion.statut = Immersion.Statut.ACCEPTEE
        immersion.save(update_fields=["statut"])
        request_convention(immersion)
        return immersion.current_convention()
    return convention


# --- Start gate ----------------------------------------------------------------


@dataclass
class StartGate:
    """What stands between an immersion and its first day: the current version's
    signatories who have not signed and, with travel, a missing ordre de mission."""

    convention: Convention | None
    en_attente: list
    ordre_mission_manquant: bool

    @property
    def ouvert(self):
        return (
            self.convention is not None and not self.en_attente and not self.ordre_mission_manquant
        )

    def messages(self):
        if self.convention is None:
            return ["La convention n'est pas encore générée, ni donc signée par les parties."]
        out = []
        if self.en_attente:
            names = " ; ".join(signatory_label(s) for s in self.en_attente)
            out.append(
                f"La convention (version {self.convention.version}) n'est pas encore signée "
                f"par : {names}."
            )
        if self.ordre_mission_manquant:
            out.append(
                "L'immersion implique un déplacement : l'ordre de mission doit être établi "
                "(numéro et date enregistrés)."
            )
        return out


def signatory_label(signature):
    """« Sophie Lemaire, DRH, pour l'administration d'emploi »."""
    qualite = f", {signature.fonction}" if signature.fonction else ""
    return f"{signature.nom}{qualite}, pour {signature.get_partie_display().lower()}"


_LOAD = object()


def current_convention_light(immersion):
    """The current version without its PDF, its signatures prefetched."""
    return (
        immersion.conventions.filter(annulee_le__isnull=True)
        .defer("pdf")
        .prefetch_related(Prefetch("signatures", queryset=Signature.objects.order_by("pk")))
        .order_by("-version")
        .first()
    )


def start_gate(immersion, convention=_LOAD):
    """The gate of ``immersion`` (``convention``: its current version, if loaded)."""
    if convention is _LOAD:
        convention = current_convention_light(immersion)
    pending = []
    if convention is not None:
        pending = sorted((s for s in convention.signatures.all() if not s.signe_le), key=_order)
    return StartGate(
        convention=convention,
        en_attente=pending,
        ordre_mission_manquant=immersion.deplacement and not immersion.ordre_mission_emis,
    )


def gate_to_show(immersion, convention=_LOAD):
    """The gate while it matters (agreed, not yet started), to alert on; else None."""
    waiting = (Immersion.Statut.ACCEPTEE, Immersion.Statut.EN_SIGNATURE, Immersion.Statut.SIGNEE)
    if immersion.statut not in waiting or immersion.commencee_le:
        return None
    gate = start_gate(immersion, convention)
    return None if gate.ouvert else gate


def _order(signature):
    return (Signature.Partie.values.index(signature.partie), signature.pk)


def check_start_gate(immersion):
    """Refuse (French reasons, naming who has not signed) unless the immersion may
    start: the one rule behind marking it started and recording days done."""
    gate = start_gate(immersion)
    if not gate.ouvert:
        raise ValidationError(
            ["L'immersion ne peut pas commencer.", *gate.messages()], code="start_gate"
        )
    return gate


CLOSED = (
    Immersion.Statut.REFUSEE,
    Immersion.Statut.REPORTEE,
    Immersion.Statut.ANNULEE,
    Immersion.Statut.TERMINEE,
)


@transaction.atomic
def start(immersion, today=None):
    """Mark the immersion started (from its first day), once every signatory has
    signed and, with travel, the ordre de mission is issued."""
    immersion = Immersion.objects.select_for_update().get(pk=immersion.pk)
    today = today or timezone.localdate()
    if immersion.commencee_le:
        raise ValidationError(
            f"L'immersion est déjà commencée depuis le "
            f"{timezone.localtime(immersion.commencee_le):%d/%m/%Y}."
        )
    if immersion.statut in CLOSED:
        raise ValidationError(
            f"Une immersion « {immersion.get_statut_display().lower()} » ne peut pas commencer."
        )
    check_start_gate(immersion)
    first = min(immersion.dates)
    if first > today:
        raise ValidationError(
            f"Le premier jour de l'immersion est le {first:%d/%m/%Y} : elle ne peut pas être "
            "marquée commencée avant."
        )
    immersion.commencee_le = timezone.now()
    immersion.save(update_fields=["commencee_le"])
    return immersion


# --- Feedback ------------------------------------------------------------------


def feedback_token(immersion):
    return signing.dumps({"i": immersion.pk}, salt=FEEDBACK_SALT)


def immersion_from_feedback_token(token, max_age=timedelta(days=90)):
    try:
        data = signing.loads(token, salt=FEEDBACK_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return Immersion.objects.filter(pk=data.get("i")).first()


def _record_attendance(immersion, realisation, jours_manques):
    """Set each day done or missed from the feedback's answer. Days done need the
    start gate open (an unsigned immersion cannot have been attended)."""
    R = Immersion.Realisation
    if realisation not in R.values:
        raise ValidationError(
            {"realisation": "Indiquez si l'immersion a été effectuée, en partie ou pas du tout."}
        )
    days = sorted(immersion.dates)
    missed = set(jours_manques)
    if missed - set(days):
        raise ValidationError({"jours_manques": "Ces jours ne sont pas ceux de l'immersion."})
    if realisation == R.EFFECTUEE and missed:
        raise ValidationError(
            {"jours_manques": "Une immersion effectuée en totalité n'a aucun jour manqué."}
        )
    if realisation == R.PARTIELLE and not 0 < len(missed) < len(days):
        raise ValidationError(
            {
                "jours_manques": "Cochez les jours manqués : au moins un, et pas tous (sinon "
                "l'immersion n'a pas été effectuée)."
            }
        )
    if realisation == R.NON_EFFECTUEE:
        missed = set(days)
    if len(missed) < len(days):
        check_start_gate(immersion)
    immersion.jours.filter(date__in=missed).update(effectue=False)
    immersion.jours.exclude(date__in=missed).update(effectue=True)
    immersion.realisation = realisation
    immersion.save(update_fields=["realisation"])


@transaction.atomic
def record_feedback(immersion, auteur, confirme_projet, suite="", realisation="", jours_manques=()):
    """The agent's or the tutor's feedback after the last day. The first one also
    says whether the immersion was done, partly (which days were missed) or not at
    all: from then on the ceiling counts the days done instead of the planned ones."""
    immersion = Immersion.objects.select_for_update().get(pk=immersion.pk)
    if immersion.statut not in (Immersion.Statut.SIGNEE, Immersion.Statut.TERMINEE):
        raise ValidationError(
            "Le retour se fait après une immersion dont la convention est signée."
        )
    if max(immersion.dates) > timezone.localdate():
        raise ValidationError("Le retour se fait après le dernier jour de l'immersion.")
    if Retour.objects.filter(immersion=immersion, auteur=auteur).exists():
        raise ValidationError("Ce retour a déjà été donné. Merci !")
    if not immersion.realisation:
        _record_attendance(immersion, realisation, jours_manques)
    elif realisation:
        raise ValidationError(
            f"La réalisation de l'immersion est déjà enregistrée : "
            f"{immersion.get_realisation_display().lower()}."
        )
    retour = Retour.objects.create(
        immersion=immersion, auteur=auteur, confirme_projet=confirme_projet, suite=suite.strip()
    )
    if immersion.statut == Immersion.Statut.SIGNEE:
        immersion.statut = Immersion.Statut.TERMINEE
        immersion.save(update_fields=["statut"])
    return retour
