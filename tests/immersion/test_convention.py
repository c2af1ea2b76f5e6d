"""The three-party convention as a PDF (immersion/convention.html rendered by
WeasyPrint): what it states, read back from the PDF, its SHA-256, and its versions
(a change to what it states makes a new one; a change outside it does not)."""

import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader

from accompagnement.models import Notification
from immersion import services
from immersion.models import Convention, Immersion
from tests.factories import CadreFactory, StructureFactory, make_delegue

pytestmark = pytest.mark.django_db

# Working days far ahead (no holiday around mid-September 2027), requested today.
DAYS = [date(2027, 9, 14), date(2027, 9, 15), date(2027, 9, 16)]  # Tuesday to Thursday


def request_data(**overrides):
    data = {
        "motivation": "Découvrir le pilotage territorial d'une politique publique.",
        "projet_professionnel": "Rejoindre le corps préfectoral d'ici trois ans.",
        "structure_accueil": "Préfecture de la Gironde",
        "lieu": "2 esplanade Charles-de-Gaulle, 33000 Bordeaux",
        "fonctions_observees": "Direction de cabinet du préfet et gestion de crise",
        "tuteur_nom": "Hélène Garnier",
        "tuteur_fonction": "Directrice de cabinet",
        "tuteur_email": "helene.garnier@gironde.gouv.fr",
        "tuteur_telephone": "05 56 00 00 00",
        "accueil_representant_nom": "Paul Mercier",
        "accueil_representant_email": "paul.mercier@gironde.gouv.fr",
        "employeur_representant_nom": "Sophie Lemaire",
        "employeur_representant_email": "sophie.lemaire@finances.gouv.fr",
    }
    return {**data, **overrides}


def make_accepted(days=DAYS, signataires=(), **overrides):
    """A real request (services.submit, every rule checked) accepted by its délégué:
    version 1 of the convention is generated and sent for signature."""
    ministere = StructureFactory(nom="Ministère de l'Économie", sigle="MEFSIN")
    delegue = make_delegue(ministere, mfa=False)
    cadre = CadreFactory(
        structure=ministere,
        nom="Durand",
        prenom="Camille",
        corps="Administrateurs de l'État",
        grade="Administratrice de l'État hors classe",
    )
    immersion = services.submit(
        cadre, list(days), signataires=signataires, **request_data(**overrides)
    )
    services.decide(immersion, Immersion.Statut.ACCEPTEE, by=delegue)
    immersion.refresh_from_db()
    return immersion, delegue


def pdf_text(pdf):
    reader = PdfReader(io.BytesIO(bytes(pdf)))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("’", "'").split())


def test_the_days_are_working_days():
    from accompagnement.working_days import is_working_day

    assert all(is_working_day(d) for d in DAYS + [date(2027, 9, 17)])


def test_the_pdf_states_parties_tutor_functions_place_days_and_clauses():
    immersion, _ = make_accepted()
    convention = immersion.current_convention()
    assert convention.version == 1
    assert immersion.statut == Immersion.Statut.EN_SIGNATURE
    text = pdf_text(convention.pdf)

    assert "Convention de période d'immersion professionnelle" in text
    assert "décret n° 2022-1043 du 22 juillet 2022" in text
    assert "Version n° 1" in text
    # The three parties.
    assert "Camille DURAND" in text
    assert "Administrateurs de l'État" in text
    assert "Administratrice de l'État hors classe" in text
    assert "Ministère de l'Économie" in text
    assert "représentée par Sophie Lemaire" in text
    assert "Préfecture de la Gironde" in text
    assert "représentée par Paul Mercier" in text
    # The tutor, the functions, the place.
    assert "Hélène Garnier" in text and "Directrice de cabinet" in text
    assert "Direction de cabinet du préfet et gestion de crise" in text
    assert "2 esplanade Charles-de-Gaulle, 33000 Bordeaux" in text
    # Every day with its weekday, and the duration.
    for weekday, day in zip(("mardi", "mercredi", "jeudi"), DAYS, strict=True):
        assert f"{weekday} {day:%d/%m/%Y}" in text
    assert "3 jours ouvrés" in text
    # The clauses.
    assert "en mission" in text
    assert "temps de service" in text
    assert "sous l'autorité de son administration d'emploi" in text
    assert "accident de service" in text
    assert "discrétion professionnelle" in text
    # The phone number is not stated (and so changing it makes no new version).
    assert "05 56 00 00 00" not in text


def test_the_stored_hash_is_the_hash_of_the_stored_bytes():
    immersion, _ = make_accepted()
    convention = immersion.current_convention()
    pdf = bytes(convention.pdf)
    assert pdf.startswith(b"%PDF")
    assert convention.sha256 == hashlib.sha256(pdf).hexdigest()
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1


def test_a_change_of_place_makes_version_2_and_voids_version_1():
    immersion, _ = make_accepted()
    v1 = immersion.current_convention()
    old = list(v1.signatures.all())
    services.sign(old[0], "Camille Durand", "192.0.2.10")

    v2 = services.update(immersion, lieu="Cité administrative, 33000 Bordeaux")

    v1.refresh_from_db()
    assert v1.annulee_le is not None
    assert v2.version == 2 and v2.annulee_le is None
    assert immersion.current_convention() == v2
    assert v2.sha256 != v1.sha256
    text = pdf_text(v2.pdf)
    assert "Version n° 2" in text
    assert "Cité administrative, 33000 Bordeaux" in text
    assert all(not s.signe_le for s in v2.signatures.all())
    assert v2.signatures.count() == 3
    # Every party of version 1 is told it is void (the one who signed too).
    voided = Notification.objects.filter(kind="immersion_convention_annulee")
    assert sorted(voided.values_list("email", flat=True)) == sorted(s.email for s in old)


def test_a_change_of_days_makes_a_new_version_stating_the_new_days():
    immersion, _ = make_accepted()
    v2 = services.update(immersion, days=DAYS + [date(2027, 9, 17)])
    assert v2.version == 2
    text = pdf_text(v2.pdf)
    assert "vendredi 17/09/2027" in text
    assert "4 jours ouvrés" in text


@pytest.mark.parametrize(
    "field, value",
    [
        ("fonctions_observees", "Pilotage de la sécurité civile"),
        ("tuteur_nom", "Marc Olivier"),
        ("accueil_representant_nom", "Anne Roux"),
        ("employeur_representant_email", "drh@finances.gouv.fr"),
    ],
)
def test_every_stated_field_makes_a_new_version(field, value):
    immersion, _ = make_accepted()
    convention = services.update(immersion, **{field: value})
    assert convention.version == 2


def test_a_change_outside_the_convention_makes_no_new_version():
    immersion, _ = make_accepted()
    v1 = immersion.current_convention()
    signature = v1.signatures.first()
    services.sign(signature, "Camille Durand", "192.0.2.10")

    same = services.update(immersion, tuteur_telephone="06 11 22 33 44")

    assert same == v1
    assert Convention.objects.filter(immersion=immersion).count() == 1
    signature.refresh_from_db()
    assert signature.signe_le is not None
    assert not Notification.objects.filter(kind="immersion_convention_annulee").exists()


def test_the_same_data_again_makes_no_new_version():
    immersion, _ = make_accepted()
    services.update(immersion, lieu=immersion.lieu, days=DAYS)
    assert Convention.objects.filter(immersion=immersion).count() == 1


# --- Issue 14, point 6: what the convention states, defined once ----------------------


def leaves(value):
    """Every non-empty text of the stated content, dates as the PDF writes them (a
    signatory's party is stated by its heading, not by its code)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "partie":
                yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    elif isinstance(value, date):
        yield f"{value:%d/%m/%Y}"
    elif isinstance(value, str) and value.strip():
        yield " ".join(value.split())


HR = {
    "partie": "employeur",
    "nom": "Luc Ferrand",
    "fonction": "Responsable des ressources humaines",
    "email": "luc.ferrand@finances.gouv.fr",
}


def test_the_pdf_states_every_piece_of_the_stated_content():
    from immersion.convention import stated_content

    immersion, _ = make_accepted(signataires=[HR], deplacement=True)
    text = pdf_text(immersion.current_convention().pdf)
    content = stated_content(immersion)
    assert content["signataires"][2]["nom"] == "Luc Ferrand"
    assert {s["partie"] for s in content["signataires"]} == {"agent", "employeur", "accueil"}
    # Case aside: the PDF writes the agent's surname in capitals.
    missing = [leaf for leaf in leaves(content) if leaf.lower() not in text.lower()]
    assert missing == []
    # The employer is represented by both of its signatories, each signing.
    assert "représentée par Sophie Lemaire (sophie.lemaire@finances.gouv.fr) et Luc Ferrand" in text
    assert "Une partie a signé lorsque chacun de ses signataires a signé." in text


@pytest.mark.parametrize(
    "field, value",
    [
        ("tuteur_telephone", "06 98 76 54 32"),
        ("tuteur_email", "h.garnier@gironde.gouv.fr"),
        ("motivation", "Une motivation reformulée par l'agent."),
        ("projet_professionnel", "Un projet précisé après l'entretien."),
        ("ordre_mission_numero", "OM-2027-0099"),
        ("commentaire_interne", "Relancer la préfecture pour le badge d'accès."),
    ],
)
def test_what_the_convention_does_not_state_is_not_in_the_pdf_and_voids_nothing(field, value):
    immersion, _ = make_accepted()
    v1 = immersion.current_convention()
    signature = v1.signatures.get(partie="accueil")
    services.sign(signature, "Paul Mercier", "192.0.2.10")
    changes = {field: value}
    if field == "ordre_mission_numero":
        changes["ordre_mission_date"] = date(2027, 9, 1)
    assert services.update(immersion, **changes) == v1
    immersion.refresh_from_db()
    assert getattr(immersion, field) == value
    assert value not in pdf_text(v1.pdf)
    v1.refresh_from_db()
    signature.refresh_from_db()
    assert v1.annulee_le is None and signature.signe_le is not None
    assert not Notification.objects.filter(kind="immersion_convention_annulee").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"deplacement": True},
        {"structure_accueil": "Préfecture de la Gironde – cabinet"},
        {"signataires": [HR]},
    ],
)
def test_a_stated_change_voids_the_signatures_given(changes):
    immersion, _ = make_accepted()
    v1 = immersion.current_convention()
    signed = list(v1.signatures.all())[:2]
    for signature in signed:
        services.sign(signature, signature.nom, "192.0.2.10")
    v2 = services.update(immersion, **changes)
    assert v2.version == 2 and not v2.signatures.filter(signe_le__isnull=False).exists()
    v1.refresh_from_db()
    assert v1.annulee_le is not None
    assert v2.contenu != v1.contenu
    voided = Notification.objects.filter(kind="immersion_convention_annulee")
    assert {n.email for n in voided} >= {s.email for s in signed}


def test_the_pdf_states_the_en_mission_status_with_or_without_travel():
    travelling, _ = make_accepted(deplacement=True)
    text = pdf_text(travelling.current_convention().pdf)
    assert "Statut : l'agent est en mission pendant toute la période d'immersion." in text
    assert (
        "frais de mission" in text
        and "Un ordre de mission est établi avant le premier jour" in (text)
    )
    staying, _ = make_accepted(deplacement=False)
    text = pdf_text(staying.current_convention().pdf)
    assert "Statut : l'agent est en mission pendant toute la période d'immersion." in text
    assert "aucun frais de mission n'est engagé" in text
    assert "ordre de mission" not in text
