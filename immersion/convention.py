"""What the convention states, defined once.

``stated_content`` is the whole of what the three-party convention says about this
immersion: the parties and their signatories, the tutor, the functions observed, the
place, the days and the "en mission" status. The PDF is rendered from it (and from
nothing else of the immersion), and its fingerprint decides whether a change voids the
signatures: a change to anything it leaves out (a contact's phone number, the
motivation, the ordre de mission's number) cannot reach the document, so it voids
nothing."""

import hashlib
import json

from .models import Signature


def signatories(immersion):
    """Every signatory, party by party: the agent, then each party's representative
    followed by its further signatories (``Signataire``)."""
    cadre = immersion.cadre
    extra = sorted(immersion.autres_signataires.all(), key=lambda s: s.pk)
    out = [
        {
            "partie": Signature.Partie.AGENT.value,
            "nom": str(cadre),
            "fonction": "",
            "email": cadre.email,
        }
    ]
    for partie, nom, email in (
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
    ):
        out.append({"partie": partie.value, "nom": nom, "fonction": "", "email": email})
        out += [
            {"partie": partie.value, "nom": s.nom, "fonction": s.fonction, "email": s.email}
            for s in extra
            if s.partie == partie
        ]
    return out


def stated_content(immersion):
    """The convention's content as plain data (dates as ``date``)."""
    cadre = immersion.cadre
    structure = str(cadre.structure)
    return {
        "agent": {
            "civilite": cadre.get_civilite_display(),
            "prenom": cadre.prenom,
            "nom": cadre.nom,
            "corps": cadre.corps,
            "grade": cadre.grade,
            "fonction": cadre.fonction,
            "structure": structure,
            "email": cadre.email,
        },
        "employeur": {"structure": structure},
        "accueil": {"structure": immersion.structure_accueil},
        "signataires": signatories(immersion),
        "tuteur": {"nom": immersion.tuteur_nom, "fonction": immersion.tuteur_fonction},
        "fonctions_observees": immersion.fonctions_observees,
        "lieu": immersion.lieu,
        "jours": sorted(immersion.dates),
        "deplacement": immersion.deplacement,
    }


def fingerprint(content):
    """SHA-256 of the canonical JSON of ``content`` (keys sorted, dates ISO)."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parties_for_display(content):
    """The signatories grouped by party, in the convention's order (for the PDF)."""
    labels = dict(Signature.Partie.choices)
    return [
        {
            "partie": partie,
            "label": labels[partie],
            "signataires": [s for s in content["signataires"] if s["partie"] == partie],
        }
        for partie in Signature.Partie.values
    ]
