"""Immersion: the agent's pages (``/espace/immersion/``) and the public links
(``/immersion/``) whose signed, expiring token is the only credential."""

from . import DONE, NOT_ALLOWED, NOT_FOUND, OK, REDIRECT, Row, everyone, only, public
from .admin import staff

ROWS = [
    Row("immersion:list", expect=everyone(OK)),
    Row("immersion:new", expect=only(cadre=OK, other_cadre=OK)),
    Row("immersion:new", method="post", expect=only(cadre=DONE, other_cadre=DONE)),
    Row("immersion:detail", {"pk": "immersion"}, only(cadre=OK)),
    Row("immersion:detail", {"pk": "other_immersion"}, only(other_cadre=OK), variant="other's"),
    Row("immersion:convention_pdf", {"pk": "immersion"}, only(cadre=OK)),
    Row("immersion:feedback", {"pk": "immersion"}, only(cadre=DONE), method="post"),
    Row("immersion:feedback", {"pk": "immersion"}, everyone(NOT_ALLOWED)),
    # Refused with a message (its convention is unsigned): a redirect, for the agent only.
    Row("immersion:start", {"pk": "immersion"}, only(cadre=REDIRECT), method="post"),
    Row("immersion:start", {"pk": "immersion"}, everyone(NOT_ALLOWED)),
    # Whoever holds the link (the tutor, a representative) may use it, account or not.
    Row(
        "immersion_public:signer",
        lambda w: {"token": w.signature_token},
        public(OK),
        variant="own link",
    ),
    Row(
        "immersion_public:signer",
        lambda w: {"token": w.forged_token},
        public(NOT_FOUND),
        variant="forged",
    ),
    Row(
        "immersion_public:signer_pdf",
        lambda w: {"token": w.signature_token},
        public(OK),
        variant="own link",
    ),
    Row(
        "immersion_public:signer_pdf",
        lambda w: {"token": w.forged_token},
        public(NOT_FOUND),
        variant="forged",
    ),
    Row(
        "immersion_public:retour",
        lambda w: {"token": w.feedback_token},
        public(OK),
        variant="own link",
    ),
    Row(
        "immersion_public:retour",
        lambda w: {"token": w.forged_token},
        public(NOT_FOUND),
        variant="forged",
    ),
]

# --- custom admin views ------------------------------------------------------------------


def _convention(w):
    return {"pk": w.immersion.pk, "convention_pk": w.convention.pk}


def _signature(w):
    return {"pk": w.immersion.pk, "signature_pk": w.convention.signatures.first().pk}


ROWS += [
    Row("admin:immersion_immersion_convention_pdf", _convention, staff(other_delegue=NOT_FOUND)),
    # Actions (POST only), through the services: done or refused with a message.
    Row(
        "admin:immersion_immersion_start",
        {"pk": "immersion"},
        staff(REDIRECT, other_delegue=NOT_FOUND),
        method="post",
    ),
    Row("admin:immersion_immersion_start", {"pk": "immersion"}, staff(NOT_ALLOWED)),
    Row(
        "admin:immersion_immersion_renew_link",
        _signature,
        staff(REDIRECT, other_delegue=NOT_FOUND),
        method="post",
    ),
    Row("admin:immersion_immersion_renew_link", _signature, staff(NOT_ALLOWED)),
]
