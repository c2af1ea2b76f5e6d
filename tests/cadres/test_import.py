"""Imports of cadres and structures from HR files: reading CSV and XLSX, the preview
with the errors of each row (nothing saved), confirmation of the valid rows only,
idempotent re-imports, structures in any order, perimeters, the upload checks, the
progress, tasks run twice or restarted, and a 20,000-row file."""

import io
import time
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from kombu.exceptions import OperationalError

from cadres import importing
from cadres.admin_import import confirm_label
from cadres.models import Cadre, ImportJob, Structure
from cadres.tasks import analyse_import, requeue_stalled_imports, run_import
from tests.celery_worker import wait_until
from tests.factories import CadreFactory, StructureFactory, UserFactory, with_totp

pytestmark = pytest.mark.django_db

UPLOAD = reverse("cadres_import")
HEADER = "matricule;civilité;nom;prénom;email;structure;fonction;date de prise de poste"


def csv_file(*rows, header=HEADER, encoding="utf-8"):
    return "\r\n".join([header, *rows]).encode(encoding)


def xlsx_file(*rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def analysed(user, content, name="cadres.csv", nature=ImportJob.Nature.CADRES):
    job = ImportJob.objects.create(nature=nature, nom_fichier=name, contenu=content, cree_par=user)
    analyse_import(job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture
def confirmed(django_capture_on_commit_callbacks):
    """Confirm a previewed job; the import task runs (inline) after commit."""

    def confirm(job):
        with django_capture_on_commit_callbacks(execute=True):
            assert importing.confirm(job.pk)
        job.refresh_from_db()
        assert job.statut == ImportJob.Statut.TERMINE, job.message
        return job

    return confirm


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """POST a file to the upload page (the analysis runs inline after commit)."""

    def post(content, name="cadres.csv", nature="cadres"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                UPLOAD, {"nature": nature, "fichier": SimpleUploadedFile(name, content)}
            )

    return post


def messages_of(job):
    return [importing.describe(e) for e in job.erreurs]


def good_rows(n=3, structure="SA11", start=1):
    return [
        f"M{i:05d};Mme;Nom{i};Prénom{i};agent{i}@example.gouv.fr;{structure};Cheffe;01/09/2026"
        for i in range(start, start + n)
    ]


# --- Reading files -------------------------------------------------------------------


def test_csv_with_bom_semicolons_and_french_headers(two_ministries):
    content = b"\xef\xbb\xbf" + csv_file(
        "A1;Madame;Durand;Élise;Elise.Durand@Example.gouv.fr;SA11;Cheffe de bureau;2026-09-01",
        header="Matricule;Civilité;NOM;Prénom;Adresse électronique;Structure;Fonction;"
        "Date de prise de poste",
    )
    job = analysed(two_ministries["admin"], content)
    assert job.erreurs == []
    assert job.apercu["created"] == 1
    table = importing.read_table("x.csv", content)
    assert table.headers[0] == "Matricule"  # the BOM is not part of the first header


def test_csv_with_commas_latin1_and_quotes(two_ministries, confirmed):
    content = csv_file(
        'B2,m,"Lefèvre, dit Lef",Jérôme,jerome.lefevre@example.gouv.fr,SA11,"Chef, adjoint",',
        header="matricule,civilite,nom,prenom,courriel,structure,fonction,date de prise de poste",
        encoding="latin-1",
    )
    job = confirmed(analysed(two_ministries["admin"], content))
    assert job.rapport["created"] == 1
    cadre = Cadre.objects.get(matricule="B2")
    assert (cadre.nom, cadre.prenom, cadre.fonction) == (
        "Lefèvre, dit Lef",
        "Jérôme",
        "Chef, adjoint",
    )
    assert cadre.civilite == Cadre.Civilite.MONSIEUR
    assert cadre.date_prise_poste is None


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [("a;b;c\n1;2;3\n", ";"), ("a,b,c\n1,2,3\n", ","), ("a\tb\tc\n1\t2\t3\n", "\t")],
)
def test_delimiter_is_sniffed(content, delimiter):
    assert importing.sniff_delimiter(content) == delimiter


def test_header_names_in_any_case_with_or_without_accents():
    headers = [
        "ADRESSE ÉLECTRONIQUE",
        "Prenom",
        "E-mail",
        "date de prise de poste",
        "Téléphone",
        "Catégorie",
        "N+1",
        "Colonne inconnue",
    ]
    table = importing.Table(1, headers, [])
    found, ignored, errors = importing.map_columns(table, importing.CADRE_COLUMNS)
    assert found["email"] == (0, "ADRESSE ÉLECTRONIQUE")
    assert {"prenom", "date_prise_poste", "telephone", "categorie", "responsable"} <= set(found)
    assert ignored == ["Colonne inconnue"]
    messages = [e["message"] for e in errors]
    assert "cette colonne reprend « ADRESSE ÉLECTRONIQUE » : gardez-en une seule." in messages
    assert "colonne obligatoire absente : « structure »." in messages


def test_xlsx_with_dates_and_numbers(two_ministries, confirmed):
    content = xlsx_file(
        [
            "Matricule",
            "Civilité",
            "Nom",
            "Prénom",
            "Courriel",
            "Structure",
            "Date de prise de poste",
        ],
        [
            12345,
            "Monsieur",
            "Martin",
            "Paul",
            "paul.martin@example.gouv.fr",
            "DA1",
            datetime(2026, 3, 2),
        ],
        [None, None, None, None, None, None, None],  # a blank row is skipped
        ["X9", "Mme", "Roux", "Anne", "anne.roux@example.gouv.fr", "SA11", "15/01/2025"],
    )
    job = analysed(two_ministries["admin"], content, name="export.xlsx")
    assert job.erreurs == []
    assert job.nb_lignes == 2
    confirmed(job)
    paul = Cadre.objects.get(matricule="12345")
    assert paul.date_prise_poste == date(2026, 3, 2)
    assert paul.structure == two_ministries["a_dir"]
    assert Cadre.objects.get(matricule="X9").date_prise_poste == date(2025, 1, 15)


def test_missing_required_column_is_an_error_of_the_file(two_ministries):
    job = analysed(two_ministries["admin"], csv_file("Dupont;Jean", header="nom;prénom"))
    assert "Ligne 1 : colonne obligatoire absente : « email »." in messages_of(job)
    assert importing.valid_rows(job) == 0


# --- Preview -------------------------------------------------------------------------


def test_preview_lists_the_errors_of_each_row_and_saves_nothing(two_ministries):
    m = two_ministries
    content = csv_file(
        "A1;Mme;Bon;Cas;bon.cas@example.gouv.fr;SA11;Cheffe;01/09/2026",
        "A2;Mme;Mauvaise;Adresse;pas-une-adresse;SA11;;",
        "A3;M;Inconnue;Structure;inconnue@example.gouv.fr;XYZ;;",
        "A4;M;Hors;Périmètre;hors@example.gouv.fr;MB;;",
        "A5;Mme;Double;Adresse;BON.CAS@example.gouv.fr;SA11;;",
        "A6;Mme;Mauvaise;Date;date@example.gouv.fr;SA11;;31/02/2026",
        "A1;Mme;Double;Matricule;autre@example.gouv.fr;SA11;;",
        "A8;Docteur;Sans;Civilité;civ@example.gouv.fr;SA11;;",
    )
    cadres, structures = Cadre.objects.count(), Structure.objects.count()
    job = analysed(m["delegue_a"], content)
    assert job.statut == ImportJob.Statut.A_CONFIRMER
    assert messages_of(job) == [
        "Ligne 3, colonne « email » : adresse invalide « pas-une-adresse ».",
        "Ligne 4, colonne « structure » : structure « XYZ » introuvable (ni code ni sigle connu).",
        "Ligne 5, colonne « structure » : structure « MB » hors de votre périmètre.",
        "Ligne 6, colonne « email » : adresse « bon.cas@example.gouv.fr » déjà présent ligne 2.",
        "Ligne 7, colonne « date de prise de poste » : date invalide « 31/02/2026 » "
        "(jj/mm/aaaa attendu).",
        "Ligne 8, colonne « matricule » : matricule « A1 » déjà présent ligne 2.",
        "Ligne 9, colonne « civilité » : civilité « Docteur » inconnue (Madame ou Monsieur).",
    ]
    assert job.apercu == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "skipped": 7,
        "errors": 7,
        "ignored": [],
    }
    assert (Cadre.objects.count(), Structure.objects.count()) == (cadres, structures)


def test_preview_page_shows_counts_errors_and_the_confirm_button(client, two_ministries, upload):
    client.force_login(two_ministries["delegue_a"])
    response = upload(csv_file(*good_rows(2), "Z;Mme;X;Y;mauvaise;SA11;;"))
    assert response.status_code == 302
    page = client.get(response.url)
    html = page.content.decode()
    assert 'id="import-apercu"' in html
    assert "adresse invalide « mauvaise »" in html
    assert "Importer les 2 lignes valides ; 1 ligne en erreur sera ignorée" in html
    assert Cadre.objects.filter(email__startswith="agent").count() == 0


def test_confirm_label_counts_valid_and_ignored_rows():
    label = confirm_label({"created": 19_000, "updated": 997, "unchanged": 0, "skipped": 3})
    assert label.replace("\xa0", " ").replace("\u202f", " ") == (
        "Importer les 19 997 lignes valides ; 3 lignes en erreur seront ignorées"
    )
    assert confirm_label({"created": 1, "skipped": 0}) == "Importer la ligne valide"


def test_no_button_when_no_row_is_valid(client, two_ministries, upload):
    client.force_login(two_ministries["delegue_a"])
    response = upload(csv_file("Z;Mme;X;Y;mauvaise;SA11;;"))
    html = client.get(response.url).content.decode()
    assert 'id="import-confirmer"' not in html
    assert "Aucune ligne valide" in html
    job = ImportJob.objects.get()
    assert importing.confirm(job.pk) is False


# --- Confirmation and re-import --------------------------------------------------------


def test_the_delegue_imports_a_file_with_a_bad_row_fixes_it_and_imports_again(
    client, two_ministries, upload, django_capture_on_commit_callbacks
):
    client.force_login(two_ministries["delegue_a"])
    bad = "M00003;Mme;Nom3;Prénom3;agent3@exemple;SA11;Cheffe;01/09/2026"
    response = upload(csv_file(*good_rows(2), bad))
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cadres_import_confirm", args=[job.pk]))
    html = client.get(response.url).content.decode()
    assert 'id="import-rapport"' in html
    job.refresh_from_db()
    assert job.rapport == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 1, "errors": 1}
    assert set(
        Cadre.objects.filter(matricule__startswith="M").values_list("matricule", flat=True)
    ) == {
        "M00001",
        "M00002",
    }

    response = upload(csv_file(*good_rows(3)))  # the row fixed
    second = ImportJob.objects.exclude(pk=job.pk).get()
    assert second.apercu["created"] == 1 and second.apercu["unchanged"] == 2
    assert "Importer les 3 lignes valides" in client.get(response.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("cadres_import_confirm", args=[second.pk]))
    second.refresh_from_db()
    assert second.rapport["created"] == 1 and second.rapport["unchanged"] == 2
    assert Cadre.objects.filter(matricule__startswith="M").count() == 3


def test_same_file_twice_creates_nothing_the_second_time(two_ministries, confirmed):
    admin = two_ministries["admin"]
    content = csv_file(*good_rows(5))
    first = confirmed(analysed(admin, content))
    assert first.rapport["created"] == 5
    second = analysed(admin, content)
    assert second.apercu["created"] == 0 and second.apercu["unchanged"] == 5
    second = confirmed(second)
    assert second.rapport == {"created": 0, "updated": 0, "unchanged": 5, "skipped": 0, "errors": 0}
    assert Cadre.objects.filter(matricule__startswith="M").count() == 5


def test_a_changed_row_updates_the_cadre(two_ministries, confirmed):
    admin = two_ministries["admin"]
    rows = good_rows(3)
    confirmed(analysed(admin, csv_file(*rows)))
    rows[1] = rows[1].replace("Cheffe", "Directrice adjointe").replace("SA11", "DA1")
    job = confirmed(analysed(admin, csv_file(*rows)))
    assert (job.rapport["updated"], job.rapport["unchanged"]) == (1, 2)
    cadre = Cadre.objects.get(matricule="M00002")
    assert (cadre.fonction, cadre.structure) == ("Directrice adjointe", two_ministries["a_dir"])


def test_a_column_absent_from_the_file_is_left_alone(two_ministries, confirmed):
    cadre = CadreFactory(
        matricule="K1", email="k1@example.gouv.fr", structure=two_ministries["a_srv"], corps="IGA"
    )
    content = csv_file(
        "K1;Mme;Nouveau;Nom;k1@example.gouv.fr;SA11",
        header="matricule;civilité;nom;prénom;email;structure",
    )
    confirmed(analysed(two_ministries["admin"], content))
    cadre.refresh_from_db()
    assert (cadre.nom, cadre.corps, cadre.fonction) == ("Nouveau", "IGA", "Sous-directrice")


def test_matching_by_matricule_then_by_email(two_ministries, confirmed):
    a_srv = two_ministries["a_srv"]
    by_matricule = CadreFactory(matricule="R1", email="ancienne@example.gouv.fr", structure=a_srv)
    by_email = CadreFactory(matricule=None, email="sans.matricule@example.gouv.fr", structure=a_srv)
    other = CadreFactory(matricule="R3", email="r3@example.gouv.fr", structure=a_srv)
    content = csv_file(
        "R1;Mme;Un;Une;nouvelle@example.gouv.fr;SA11;;",  # new address, same person
        "R2;Mme;Deux;Deux;SANS.Matricule@example.gouv.fr;SA11;;",  # found by address
        "R4;Mme;Trois;Trois;r3@example.gouv.fr;SA11;;",  # address of another matricule
    )
    job = analysed(two_ministries["admin"], content)
    assert messages_of(job) == [
        "Ligne 4, colonne « email » : adresse déjà utilisée par le cadre de matricule « R3 »."
    ]
    assert job.apercu["updated"] == 2
    confirmed(job)
    by_matricule.refresh_from_db()
    by_email.refresh_from_db()
    assert by_matricule.email == "nouvelle@example.gouv.fr"
    assert by_email.matricule == "R2"
    other.refresh_from_db()
    assert other.nom != "Trois"
    assert Cadre.objects.count() == 5  # the two of the fixture and these three


def test_addresses_match_whatever_their_case(two_ministries, confirmed):
    cadre = CadreFactory(email="jeanne.dupont@example.gouv.fr", structure=two_ministries["a_srv"])
    Cadre.objects.filter(pk=cadre.pk).update(email="Jeanne.Dupont@Example.gouv.fr")
    content = csv_file(
        f";Mme;{cadre.nom};{cadre.prenom};JEANNE.DUPONT@EXAMPLE.GOUV.FR;SA11;Sous-directrice;"
    )
    job = analysed(two_ministries["admin"], content)
    assert job.erreurs == [] and job.apercu["created"] == 0
    assert job.apercu["updated"] == 1  # the stored address gets normalised
    confirmed(job)
    cadre.refresh_from_db()
    assert cadre.email == "jeanne.dupont@example.gouv.fr"  # normalised as Cadre.save does


def test_responsable_given_by_a_later_row_or_by_an_existing_cadre(two_ministries, confirmed):
    boss = CadreFactory(
        matricule="CHEF", email="chef@example.gouv.fr", structure=two_ministries["a"]
    )
    header = "matricule;civilité;nom;prénom;email;structure;responsable"
    content = csv_file(
        "N1;Mme;Agent;Un;n1@example.gouv.fr;SA11;N2",  # N2 comes later in the file
        "N2;M;Chef;Deux;n2@example.gouv.fr;DA1;chef@example.gouv.fr",
        "N3;M;Agent;Trois;n3@example.gouv.fr;SA11;inconnu@example.gouv.fr",
        "N4;M;Agent;Quatre;n4@example.gouv.fr;SA11;N4",
        header=header,
    )
    job = analysed(two_ministries["admin"], content)
    assert messages_of(job) == [
        "Ligne 4, colonne « responsable » : responsable « inconnu@example.gouv.fr » introuvable, "
        "ni dans le fichier ni parmi les cadres.",
        "Ligne 5, colonne « responsable » : un cadre ne peut pas être son propre supérieur "
        "hiérarchique.",
    ]
    confirmed(job)
    assert Cadre.objects.get(matricule="N1").responsable == Cadre.objects.get(matricule="N2")
    assert Cadre.objects.get(matricule="N2").responsable == boss
    again = confirmed(analysed(two_ministries["admin"], content))
    assert again.rapport["unchanged"] == 2


# --- Structures ------------------------------------------------------------------------

STRUCTURE_HEADER = "code;nom;sigle;type;code parent"


def structures_file(*rows):
    return csv_file(*rows, header=STRUCTURE_HEADER)


def test_structures_with_parents_after_their_children(two_ministries, confirmed):
    content = structures_file(
        "BUR1;Bureau des études;BE;bureau;SD1",
        "SD1;Sous-direction des affaires;SDA;Sous-direction;DIR1",
        "DIR1;Direction générale;DG;Direction;MIN1",
        "MIN1;Ministère de l'Exemple;MEX;Ministère;",
    )
    admin = two_ministries["admin"]
    job = confirmed(analysed(admin, content, "structures.csv", ImportJob.Nature.STRUCTURES))
    assert job.rapport["created"] == 4 and job.erreurs == []
    ministry, direction = Structure.objects.get(code="MIN1"), Structure.objects.get(code="DIR1")
    bureau = Structure.objects.get(code="BUR1")
    assert bureau.parent.parent == direction and direction.parent == ministry
    assert bureau.chemin.startswith(ministry.chemin) and bureau.niveau == 3
    assert bureau.type == Structure.Type.BUREAU
    again = analysed(admin, content, "structures.csv", ImportJob.Nature.STRUCTURES)
    assert again.apercu["unchanged"] == 4


def test_moving_a_structure_moves_its_subtree(two_ministries, confirmed):
    m = two_ministries
    Structure.objects.filter(pk=m["a_dir"].pk).update(code="DA1-CODE")
    Structure.objects.filter(pk=m["b"].pk).update(code="MB-CODE")
    content = structures_file("DA1-CODE;Direction A1;DA1;direction;MB-CODE")
    job = confirmed(analysed(m["admin"], content, "s.csv", ImportJob.Nature.STRUCTURES))
    assert job.rapport["updated"] == 1
    m["a_srv"].refresh_from_db()
    assert m["a_srv"].chemin.startswith(m["b"].chemin)


def test_a_cycle_is_an_error_of_the_rows(two_ministries):
    m = two_ministries
    Structure.objects.filter(pk=m["a"].pk).update(code="MA-CODE")
    content = structures_file(
        "C1;Un;;service;C2",
        "C2;Deux;;service;C1",
        "MA-CODE;Ministère A;MA;ministere;SA11",  # under its own service
        "C3;Trois;;bureau;C1",  # its parent is in error
    )
    job = analysed(m["admin"], content, "s.csv", ImportJob.Nature.STRUCTURES)
    circular = (
        "rattachement circulaire : la structure se retrouverait sous l'une de ses propres "
        "sous-structures."
    )
    assert messages_of(job) == [
        f"Ligne 2, colonne « code parent » : {circular}",
        f"Ligne 3, colonne « code parent » : {circular}",
        f"Ligne 4, colonne « code parent » : {circular}",
        "Ligne 5, colonne « code parent » : la structure parente (ligne 2) est en erreur.",
    ]
    assert importing.valid_rows(job) == 0


def test_delegue_imports_structures_only_under_their_perimeter(two_ministries, confirmed):
    m = two_ministries
    content = structures_file(
        "S1;Service nouveau;SN;service;DA1",  # sigle of a direction of A: fine
        "S2;Bureau nouveau;;bureau;S1",
        "S3;Ministère nouveau;;ministere;",
        "S4;Service chez B;;service;MB",
    )
    job = analysed(m["delegue_a"], content, "s.csv", ImportJob.Nature.STRUCTURES)
    assert messages_of(job) == [
        "Ligne 4, colonne « code parent » : seul un administrateur national peut importer une "
        "structure de premier niveau.",
        "Ligne 5, colonne « code parent » : structure parente hors de votre périmètre.",
    ]
    confirmed(job)
    assert Structure.objects.get(code="S2").parent == Structure.objects.get(code="S1")
    assert Structure.objects.get(code="S1").parent == m["a_dir"]
    assert not Structure.objects.filter(code__in=["S3", "S4"]).exists()


def test_structure_rows_are_checked(two_ministries):
    content = structures_file(
        "T1;Sans type;;;DA1",
        "T2;Type inconnu;;agence;DA1",
        "T3;Parent inconnu;;service;NULLE-PART",
        ";Sans code;;service;DA1",
        "T1;Doublon;;service;DA1",
    )
    job = analysed(two_ministries["admin"], content, "s.csv", ImportJob.Nature.STRUCTURES)
    types = ", ".join(label for _, label in Structure.Type.choices)
    assert messages_of(job) == [
        "Ligne 2, colonne « type » : valeur obligatoire pour une nouvelle structure.",
        f"Ligne 3, colonne « type » : type « agence » inconnu ({types}).",
        "Ligne 4, colonne « code parent » : structure « NULLE-PART » introuvable (ni code ni "
        "sigle connu).",
        "Ligne 5, colonne « code » : valeur obligatoire.",
        "Ligne 6, colonne « code » : code « T1 » déjà présent ligne 2.",
    ]


def test_structure_codes_are_unique_when_given():
    from django.db import IntegrityError, transaction

    StructureFactory(code="")
    StructureFactory(code="")  # blank codes do not collide
    StructureFactory(code="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        StructureFactory(code="X1")


# --- Perimeters ------------------------------------------------------------------------


def test_delegue_cannot_import_into_nor_update_another_perimeter(two_ministries, confirmed):
    m = two_ministries
    outsider = m["cadre_b"]
    content = csv_file(
        "P1;Mme;Dedans;Une;dedans@example.gouv.fr;SA11;;",
        "P2;Mme;Dehors;Deux;dehors@example.gouv.fr;MB;;",
        f"P3;Mme;Piratée;Trois;{outsider.email};SA11;;",
    )
    job = analysed(m["delegue_a"], content)
    assert messages_of(job) == [
        "Ligne 3, colonne « structure » : structure « MB » hors de votre périmètre.",
        "Ligne 4, colonne « email » : ce cadre existe hors de votre périmètre : vous ne pouvez "
        "pas le modifier.",
    ]
    confirmed(job)
    outsider.refresh_from_db()
    assert outsider.nom == "Bravo" and outsider.structure == m["b"]
    assert not Cadre.objects.filter(matricule__in=["P2", "P3"]).exists()
    # The national administrator may do all of it.
    job = analysed(m["admin"], content)
    assert job.erreurs == []


def test_the_perimeter_is_checked_again_at_import(two_ministries, confirmed):
    m = two_ministries
    job = analysed(m["delegue_a"], csv_file(*good_rows(2)))
    assert job.apercu["created"] == 2
    m["delegue_a"].roles.get().structures.set([m["b"]])  # moved to B in between
    job = confirmed(job)
    assert job.rapport["created"] == 0 and job.rapport["skipped"] == 2


def test_a_job_is_seen_by_its_author_and_national_admins_only(client, two_ministries):
    m = two_ministries
    job = analysed(m["delegue_a"], csv_file(*good_rows(1)), name="export-delegue-a.csv")
    urls = [
        reverse("cadres_import_job", args=[job.pk]),
        reverse("cadres_import_status", args=[job.pk]),
        reverse("cadres_import_errors", args=[job.pk]),
    ]
    client.force_login(m["delegue_b"])
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("cadres_import_confirm", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.statut == ImportJob.Statut.A_CONFIRMER
    assert job.nom_fichier not in client.get(UPLOAD).content.decode()
    for user in (m["delegue_a"], m["admin"]):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 200


def test_only_staff_allowed_to_add_cadres_reach_the_import(client, two_ministries):
    client.force_login(UserFactory())
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "login" in response.url
    staff = with_totp(UserFactory(is_staff=True))
    client.force_login(staff)
    assert client.get(UPLOAD).status_code == 403
    assert client.get(reverse("cadres_import_model", args=["cadres"])).status_code == 403
    client.force_login(two_ministries["delegue_a"])
    assert client.get(UPLOAD).status_code == 200


def test_admin_index_links_to_the_import(client, two_ministries):
    client.force_login(two_ministries["delegue_a"])
    assert UPLOAD in client.get(reverse("admin:index")).content.decode()


# --- Upload checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "rapport.pdf",
            b"%PDF-1.7",
            "Format non pris en charge : déposez un fichier CSV (.csv) ou Excel (.xlsx).",
        ),
        (
            "faux.xlsx",
            b"nom;prenom\n",
            "« faux.xlsx » n'est pas un classeur Excel .xlsx valide.",
        ),
        (
            "binaire.csv",
            "nom;prénom".encode("utf-16"),
            "« binaire.csv » n'est pas un fichier texte CSV.",
        ),
        ("vide.csv", b"", "Le fichier soumis est vide."),
    ],
)
def test_upload_refuses_other_files(client, two_ministries, upload, name, content, message):
    client.force_login(two_ministries["delegue_a"])
    response = upload(content, name=name)
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_refuses_a_file_too_large(client, two_ministries, upload, settings):
    settings.IMPORT_MAX_UPLOAD_SIZE = 1024 * 1024
    client.force_login(two_ministries["delegue_a"])
    response = upload(csv_file(*good_rows(1)) + b"x" * (1024 * 1024))
    html = response.content.decode()
    assert "Le fichier dépasse la taille maximale autorisée (1 Mo)" in html
    assert not ImportJob.objects.exists()


def test_upload_accepts_csv_and_xlsx_by_their_content():
    importing.check_upload("Export RH.XLSX", xlsx_file(["nom"], ["Dupont"]))
    importing.check_upload("export.csv", "nom;prénom\nDupont;Élise".encode("latin-1"))
    with pytest.raises(importing.ImportFileError, match="n'est pas un classeur Excel"):
        importing.check_upload("faux.xlsx", xlsx_file(["nom"])[:100])  # a truncated zip


def test_the_errors_and_an_empty_model_can_be_downloaded(client, two_ministries):
    job = analysed(two_ministries["delegue_a"], csv_file("Z;Mme;X;Y;mauvaise;SA11;;"))
    client.force_login(two_ministries["delegue_a"])
    response = client.get(reverse("cadres_import_errors", args=[job.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode("utf-8-sig").splitlines() == [
        "ligne;colonne;erreur",
        "2;email;adresse invalide « mauvaise ».",
    ]
    response = client.get(reverse("cadres_import_model", args=["structures"]))
    assert response.content.decode("utf-8-sig").strip() == "code;nom;sigle;type;code parent"
    assert client.get(reverse("cadres_import_model", args=["autre"])).status_code == 404


def test_an_unreadable_workbook_fails_with_a_message(two_ministries):
    job = analysed(two_ministries["admin"], b"PK\x03\x04 pas un classeur", name="x.xlsx")
    assert job.statut == ImportJob.Statut.ECHEC
    assert job.message == "Le classeur Excel est illisible ou endommagé."


# --- Progress --------------------------------------------------------------------------


def test_the_page_of_a_running_job_polls_its_state(client, two_ministries):
    m = two_ministries
    job = ImportJob.objects.create(
        nature="cadres",
        nom_fichier="gros.csv",
        contenu=b"x",
        cree_par=m["delegue_a"],
        statut=ImportJob.Statut.ANALYSE,
        nb_lignes=20_000,
        nb_traitees=5_000,
    )
    client.force_login(m["delegue_a"])
    state = client.get(reverse("cadres_import_status", args=[job.pk])).json()
    assert state == {
        "statut": "analyse",
        "libelle": "Analyse en cours",
        "total": 20_000,
        "traitees": 5_000,
        "pourcentage": 25,
        "en_cours": True,
    }
    html = client.get(reverse("cadres_import_job", args=[job.pk])).content.decode()
    assert '<script src="/static/js/import-progress.js" defer></script>' in html
    assert f'data-url="{reverse("cadres_import_status", args=[job.pk])}"' in html
    assert 'data-statut="analyse"' in html
    assert '<progress aria-labelledby="import-progression-titre" max="20000" value="5000">' in html


def test_the_analysis_saves_its_progress_as_it_goes(two_ministries, monkeypatch):
    saved = []
    plan = importing.Importer.plan

    def watched_plan(self, progress=None):
        def watched_progress(done):
            progress(done)
            saved.append(ImportJob.objects.get().nb_traitees)

        return plan(self, watched_progress)

    monkeypatch.setattr(importing.Importer, "plan", watched_plan)
    job = analysed(two_ministries["admin"], csv_file(*good_rows(1200)))
    assert saved == [500, 1000, 1200]
    assert (job.nb_lignes, job.nb_traitees) == (1200, 1200)


def test_the_pages_make_a_constant_number_of_queries(
    client, two_ministries, django_assert_max_num_queries
):
    m = two_ministries
    bad = [f"E{i};Mme;X;Y;mauvaise{i};SA11;;" for i in range(600)]
    job = analysed(m["delegue_a"], csv_file(*bad))
    client.force_login(m["delegue_a"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("cadres_import_job", args=[job.pk]))
    assert response.content.decode().count("adresse invalide") == 500
    assert "600 erreurs, dont les 500 premières ci-dessous" in response.content.decode()
    with django_assert_max_num_queries(8):
        client.get(reverse("cadres_import_status", args=[job.pk]))
    with django_assert_max_num_queries(8):
        client.get(UPLOAD)


# --- Tasks: twice, restarted, swept ------------------------------------------------------


def test_tasks_run_twice_do_nothing_the_second_time(two_ministries, confirmed):
    job = analysed(two_ministries["admin"], csv_file(*good_rows(3)))
    assert analyse_import(job.pk) is False  # already analysed
    confirmed(job)
    assert run_import(job.pk) is False  # already imported
    assert Cadre.objects.filter(matricule__startswith="M").count() == 3


class WorkerDied(BaseException):
    """Not an ``Exception``: nothing in the task catches it, as with a killed worker."""


def test_an_import_restarted_after_its_worker_died_resumes(
    two_ministries, confirmed, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    job = analysed(two_ministries["admin"], csv_file(*good_rows(5)))
    original, calls = importing.CadreImporter.apply_batch, []

    def dies_on_the_second_batch(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise WorkerDied
        return original(self, rows)

    monkeypatch.setattr(importing.CadreImporter, "apply_batch", dies_on_the_second_batch)
    with pytest.raises(WorkerDied), django_capture_on_commit_callbacks(execute=True):
        importing.confirm(job.pk)
    job.refresh_from_db()
    assert (job.statut, job.nb_traitees, job.rapport["created"]) == ("import", 2, 2)
    assert run_import(job.pk) is False  # a live run is not taken over...
    ImportJob.objects.filter(pk=job.pk).update(maj_le=timezone.now() - timedelta(minutes=11))
    assert run_import(job.pk) is True  # ... a silent one is, from where it stopped
    job.refresh_from_db()
    assert job.rapport == {"created": 5, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    assert Cadre.objects.filter(matricule__startswith="M").count() == 5


def test_a_job_queued_while_the_broker_was_down_is_picked_up_by_the_sweep(
    client, two_ministries, upload, monkeypatch
):
    def broker_down(*args):
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(analyse_import, "delay", broker_down)
    client.force_login(two_ministries["delegue_a"])
    response = upload(csv_file(*good_rows(2)))
    assert response.status_code == 302  # the page works, the job waits
    job = ImportJob.objects.get()
    assert job.statut == ImportJob.Statut.EN_ATTENTE
    assert requeue_stalled_imports() == 0  # not before a minute
    monkeypatch.undo()
    ImportJob.objects.filter(pk=job.pk).update(maj_le=timezone.now() - timedelta(minutes=2))
    assert requeue_stalled_imports() == 1
    job.refresh_from_db()
    assert job.statut == ImportJob.Statut.A_CONFIRMER and job.apercu["created"] == 2


def test_a_confirmed_import_lost_by_the_broker_is_picked_up_by_the_sweep(
    two_ministries, monkeypatch, django_capture_on_commit_callbacks
):
    job = analysed(two_ministries["admin"], csv_file(*good_rows(2)))
    monkeypatch.setattr(run_import, "delay", lambda *a: (_ for _ in ()).throw(OSError("down")))
    with django_capture_on_commit_callbacks(execute=True):
        importing.confirm(job.pk)
    monkeypatch.undo()
    ImportJob.objects.filter(pk=job.pk).update(maj_le=timezone.now() - timedelta(minutes=2))
    assert requeue_stalled_imports() == 1
    job.refresh_from_db()
    assert job.statut == ImportJob.Statut.TERMINE and job.rapport["created"] == 2


# --- Scale -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cadres.csv", "cadres.xlsx"])
def test_scale_20000_rows_are_analysed_and_imported_well_within_a_minute(
    two_ministries, django_capture_on_commit_callbacks, capsys, name
):
    """The scale test: a 20,000-row file, analysed then imported (the issue asks for
    less than 60 s; the bound here is loose so that a slow machine does not fail)."""
    m = two_ministries
    structures = ["MA", "DA1", "SA11"]
    rows = [
        [
            f"R{i:06d}",
            "Mme" if i % 2 else "M",
            f"Nom{i}",
            f"Prénom{i}",
            f"cadre.{i}@example.gouv.fr",
            structures[i % 3],
            f"Fonction {i % 50}",
            f"{1 + i % 28:02d}/{1 + i % 12:02d}/2025",
        ]
        for i in range(20_000)
    ]
    if name.endswith(".csv"):
        content = csv_file(*(";".join(row) for row in rows))
    else:
        content = xlsx_file(HEADER.split(";"), *rows)
    started = time.perf_counter()
    job = analysed(m["admin"], content, name=name)
    analysis = time.perf_counter() - started
    assert job.apercu["created"] == 20_000 and job.erreurs == []
    with django_capture_on_commit_callbacks(execute=True):
        importing.confirm(job.pk)
    total = time.perf_counter() - started
    job.refresh_from_db()
    assert job.statut == ImportJob.Statut.TERMINE
    assert job.rapport["created"] == 20_000
    assert Cadre.objects.filter(matricule__startswith="R").count() == 20_000
    started = time.perf_counter()
    again = analysed(m["admin"], content, name=name)
    reanalysis = time.perf_counter() - started
    assert again.apercu["unchanged"] == 20_000
    with capsys.disabled():
        print(
            f"\n20,000 rows ({name}): analysis {analysis:.1f} s, analysis + import "
            f"{total:.1f} s, re-analysis (all unchanged) {reanalysis:.1f} s"
        )
    assert total < 120


# --- A real worker -----------------------------------------------------------------------


def wait_for(job, status, worker):
    def reached():
        job.refresh_from_db()
        return job.statut == status

    wait_until(reached, worker, f"job not {status} (still {job.statut})")
    return job


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_analyses_and_imports_the_stored_file(celery_worker_thread):
    a = StructureFactory(nom="Ministère A", sigle="MA")
    admin = UserFactory(is_staff=True, is_superuser=True)
    job = importing.submit(admin, "cadres", "cadres.csv", csv_file(*good_rows(3, "MA")))
    wait_for(job, ImportJob.Statut.A_CONFIRMER, celery_worker_thread)
    assert job.apercu["created"] == 3 and Cadre.objects.count() == 0
    assert importing.confirm(job.pk)
    wait_for(job, ImportJob.Statut.TERMINE, celery_worker_thread)
    assert job.rapport["created"] == 3
    assert set(Cadre.objects.values_list("structure", flat=True)) == {a.pk}
