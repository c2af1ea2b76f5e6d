"""Import of cadres and structures from the files that HR information systems export.

One path for the preview and for the import. The file is read into rows (CSV or
XLSX), its headers are recognised (French names, any case, with or without accents),
then every row is checked (format, references, duplicates inside the file, the
database, the user's perimeter), which gives a *plan*: for each row, either errors or
an action (create, update, unchanged). The analysis stores the plan's errors and
counts and writes nothing else. The import builds the plan again (the database may
have moved since the preview) and applies the valid rows, one transaction per batch;
the number of rows done is saved with each batch, under the job's row lock, so that a
task run twice, or restarted after its worker died, neither skips nor repeats a row.

Matching, which makes a re-import idempotent: a cadre is found by its matricule
first, else by its email (case-insensitive); a structure by its code. A row equal to
the database is "unchanged". A column absent from the file leaves the field as it is.
"""

import codecs
import csv
import io
import logging
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.utils import timezone

from .models import Cadre, ImportJob, Structure
from .perimeter import perimeter_paths

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
MAX_ROWS_LABEL = f"{MAX_ROWS:,}".replace(",", "\u202f")
ANALYSIS_STEP = 500  # rows checked between two progress updates
BATCH_SIZE = 1000  # rows applied per transaction
LOOKUP_CHUNK = 5000  # keys per query when looking cadres up
MAX_STORED_ERRORS = 10_000
WAITING_GRACE = timedelta(minutes=1)  # queued but not started: the broker lost it
STALE_AFTER = timedelta(minutes=10)  # started but silent: the worker died

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"

# Sent in each batch's transaction with the rows written (``pk`` set, ``current``
# holding the values before an update), so that the audit trail (rgpd) records these
# bulk writes, which model signals do not see. Arguments: ``job``, ``rows``.
rows_imported = Signal()


class ImportFileError(Exception):
    """The file cannot be used; the message says why, in French."""


def error(line, column, message):
    return {"ligne": line, "colonne": column, "message": message}


def describe(err):
    """« Ligne 12, colonne « email » : adresse invalide. »"""
    if err["colonne"]:
        return f"Ligne {err['ligne']}, colonne « {err['colonne']} » : {err['message']}"
    return f"Ligne {err['ligne']} : {err['message']}"


# --- The file ----------------------------------------------------------------------


def size_label(n):
    mega = 1024 * 1024
    return f"{n // mega} Mo" if n % mega == 0 else f"{n / mega:.1f} Mo".replace(".", ",")


def check_size(size):
    limit = settings.IMPORT_MAX_UPLOAD_SIZE
    if size > limit:
        raise ImportFileError(
            f"Le fichier dépasse la taille maximale autorisée ({size_label(limit)}) : "
            "découpez-le en plusieurs fichiers."
        )


def check_extension(name):
    extension = os.path.splitext(name.lower())[1]
    if extension not in {".csv", ".xlsx"}:
        raise ImportFileError(
            "Format non pris en charge : déposez un fichier CSV (.csv) ou Excel (.xlsx)."
        )
    return extension


def check_upload(name, content):
    """Refuse what is not a CSV or XLSX file of an acceptable size, by its extension
    and by its content."""
    extension = check_extension(name)
    if not content:
        raise ImportFileError("Le fichier est vide.")
    check_size(len(content))
    if extension == ".xlsx":
        if not (content.startswith(b"PK") and _is_workbook(content)):
            raise ImportFileError(
                f"« {name} » n'est pas un classeur Excel .xlsx valide. Un classeur d'un "
                "autre format (.xls, .ods) doit d'abord être enregistré au format .xlsx."
            )
    elif content.startswith(b"PK") or b"\x00" in content[:8192]:
        raise ImportFileError(
            f"« {name} » n'est pas un fichier texte CSV. Enregistrez-le au format "
            "« CSV UTF-8 (délimité par des points-virgules) »."
        )


def _is_workbook(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def decode_text(content):
    """UTF-8 with or without BOM, else Windows-1252 / Latin-1 (older HR exports)."""
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def sniff_delimiter(text):
    lines = text[:65536].splitlines()[:50]
    header = lines[0] if lines else ""
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=";,\t").delimiter
    except csv.Error:
        delimiter = None
    if delimiter is None or delimiter not in header:
        delimiter = max(";,\t", key=header.count)
    return delimiter


def _csv_records(content):
    text = decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise ImportFileError(f"Le fichier CSV est mal formé : {exc}.") from exc


def _xlsx_records(content):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ImportFileError("Le classeur Excel est illisible ou endommagé.") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some tools write wrong dimensions: read every row
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class Table:
    header_line: int
    headers: list
    rows: list  # (line number in the file, [cell texts])


def read_table(name, content):
    """The first sheet (XLSX) or the text (CSV): the first non-blank row holds the
    headers; blank rows are skipped; line numbers are those of the file."""
    records = _xlsx_records(content) if name.lower().endswith(".xlsx") else _csv_records(content)
    header_line, headers, rows = 0, None, []
    for line, cells in records:
        cells = [_text(c) for c in cells]
        if not any(cells):
            continue
        if headers is None:
            header_line, headers = line, cells
            continue
        rows.append((line, cells))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(
                f"Le fichier compte plus de {MAX_ROWS_LABEL} lignes : découpez-le en "
                "plusieurs fichiers."
            )
    if headers is None:
        raise ImportFileError("Le fichier ne contient aucune ligne.")
    return Table(header_line, headers, rows)


# --- Columns -----------------------------------------------------------------------


def normalise(text):
    """ "Adresse Électronique" -> "adresse electronique"; "E-mail" -> "e mail"."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9+]+", text))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    aliases: tuple = ()
    required: bool = False


CADRE_COLUMNS = [
    Column("matricule", "matricule", ("identifiant RH", "id RH", "identifiant")),
    Column("civilite", "civilité", ("titre",), required=True),
    Column("nom", "nom", ("nom d'usage", "nom de famille"), required=True),
    Column("prenom", "prénom", (), required=True),
    Column(
        "email",
        "email",
        (
            "e-mail",
            "mail",
            "courriel",
            "adresse électronique",
            "adresse électronique professionnelle",
            "adresse mail",
            "adresse e-mail",
            "adresse de courriel",
        ),
        required=True,
    ),
    Column("categorie", "catégorie"),
    Column("corps", "corps"),
    Column("grade", "grade"),
    Column("fonction", "fonction", ("poste", "intitulé du poste")),
    Column("structure", "structure", ("code structure", "affectation"), required=True),
    Column(
        "responsable",
        "responsable",
        ("supérieur hiérarchique", "responsable hiérarchique", "N+1"),
    ),
    Column(
        "date_prise_poste",
        "date de prise de poste",
        ("date prise de poste", "prise de poste", "date de prise de fonctions"),
    ),
    Column("telephone", "téléphone", ("tél", "téléphone professionnel")),
]

STRUCTURE_COLUMNS = [
    Column("code", "code", ("code structure", "code RH", "identifiant"), required=True),
    Column("nom", "nom", ("libellé", "nom de la structure"), required=True),
    Column("sigle", "sigle"),
    Column("type", "type", ("type de structure",)),
    Column(
        "code_parent",
        "code parent",
        ("parent", "code structure parente", "structure parente", "code de la structure parente"),
    ),
]


def map_columns(table, columns):
    """{key: (cell index, header as written)}, the ignored headers, header errors."""
    by_name = {normalise(name): c for c in columns for name in (c.label, *c.aliases)}
    found, ignored, errors = {}, [], []
    for index, header in enumerate(table.headers):
        column = by_name.get(normalise(header))
        if column is None:
            if header:
                ignored.append(header)
        elif column.key in found:
            errors.append(
                error(
                    table.header_line,
                    header,
                    f"cette colonne reprend « {found[column.key][1]} » : gardez-en une seule.",
                )
            )
        else:
            found[column.key] = (index, header)
    for column in columns:
        if column.required and column.key not in found:
            errors.append(
                error(table.header_line, "", f"colonne obligatoire absente : « {column.label} ».")
            )
    return found, ignored, errors


# --- Rows and plans ----------------------------------------------------------------


@dataclass
class Row:
    line: int
    raw: dict  # column key -> text, for the columns of the file
    data: dict = field(default_factory=dict)  # model field -> clean value
    errors: list = field(default_factory=list)  # (column key, message)
    action: str = ""  # CREATE, UPDATE or UNCHANGED once checked
    pk: int | None = None  # the existing object it matches
    current: dict | None = None  # that object's values
    ref: str = ""  # responsable (cadres) or parent (structures), as written
    ref_line: int | None = None  # ... when it designates another row of the file
    parent: str | None = None  # structures: the parent's node in the final tree

    @property
    def valid(self):
        return not self.errors

    def fail(self, key, message):
        self.errors.append((key, message))


def parse_date(text):
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class StructureIndex:
    """Every structure, loaded once: resolves a code or a sigle, knows the paths."""

    def __init__(self):
        fields = ("pk", "code", "sigle", "nom", "type", "parent_id", "chemin")
        self.all = {s["pk"]: s for s in Structure.objects.values(*fields).order_by()}
        self.by_code, self.by_sigle = {}, {}
        for s in self.all.values():
            if s["code"]:
                self.by_code[s["code"].lower()] = s
            if s["sigle"]:
                self.by_sigle.setdefault(s["sigle"].lower(), []).append(s)

    def resolve(self, text):
        """(structure, None) or (None, error message): by code, else by sigle."""
        found = self.by_code.get(text.lower())
        if found:
            return found, None
        matches = self.by_sigle.get(text.lower(), [])
        if len(matches) > 1:
            return None, (
                f"sigle « {text} » ambigu : plusieurs structures le portent, indiquez leur code."
            )
        if not matches:
            return None, f"structure « {text} » introuvable (ni code ni sigle connu)."
        return matches[0], None


REPORT_KEYS = {CREATE: "created", UPDATE: "updated", UNCHANGED: "unchanged"}


def empty_report():
    return {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}


class Importer:
    """What both kinds of import share: columns, the plan, batches, counts."""

    columns = []
    model = None

    def __init__(self, user, table):
        self.table = table
        self.paths = perimeter_paths(user) if user is not None else []
        self.found, self.ignored, self.file_errors = map_columns(table, self.columns)
        self.rows = []
        self.structures = StructureIndex()

    def in_perimeter(self, path):
        return self.paths is None or any(path.startswith(p) for p in self.paths)

    # --- the plan: nothing is written -------------------------------------------

    def plan(self, progress=None):
        if self.file_errors:
            return
        for line, cells in self.table.rows:
            raw = {key: (cells[i] if i < len(cells) else "") for key, (i, _) in self.found.items()}
            row = Row(line, raw)
            self.clean(row)
            self.rows.append(row)
        self.check_file()
        for start in range(0, len(self.rows), ANALYSIS_STEP):
            chunk = [r for r in self.rows[start : start + ANALYSIS_STEP] if r.valid]
            if chunk:
                self.check_database(chunk)
            if progress:
                progress(min(start + ANALYSIS_STEP, len(self.rows)))
        self.check_references()
        for row in self.rows:
            if row.valid:
                row.action = self.decide(row)

    def clean(self, row):
        """The row alone: formats, required values, known structures."""
        raise NotImplementedError

    def check_file(self):
        """The rows together: duplicates."""

    def check_database(self, rows):
        """A chunk of valid rows against the database: matching, perimeter."""

    def check_references(self):
        """Rows pointing at other rows of the file."""

    def decide(self, row):
        if row.pk is None:
            return CREATE
        changed = any(row.current[k] != v for k, v in row.data.items())
        return UPDATE if changed else UNCHANGED

    def clean_text(self, row, key, required=False):
        if key not in row.raw:
            return
        value = row.raw[key]
        if required and not value:
            row.fail(key, "valeur obligatoire.")
            return
        max_length = self.model._meta.get_field(key).max_length
        if len(value) > max_length:
            row.fail(key, f"texte trop long ({max_length} caractères au plus).")
            return
        row.data[key] = value

    def find_duplicates(self, key, label):
        """A value already seen on an earlier row is an error. {value: first line}."""
        seen = {}
        for row in self.rows:
            value = (row.data.get(key) or "").lower()
            if not value:
                continue
            if value in seen:
                row.fail(key, f"{label} « {row.data[key]} » déjà présent ligne {seen[value]}.")
            else:
                seen[value] = row.line
        return seen

    # --- results ------------------------------------------------------------------

    def header(self, key):
        """The column as the file names it, for the messages."""
        if key in self.found:
            return self.found[key][1]
        return next(c.label for c in self.columns if c.key == key)

    def errors(self):
        """[{ligne, colonne, message}], in the order of the file."""
        found = list(self.file_errors)
        for row in sorted(self.rows, key=lambda r: r.line):
            found += [error(row.line, self.header(key), message) for key, message in row.errors]
        return found

    def counts(self):
        report = empty_report()
        for row in self.rows:
            report[REPORT_KEYS[row.action] if row.valid else "skipped"] += 1
        return report

    # --- the import ---------------------------------------------------------------

    def apply(self, job_id):
        """Apply the valid rows batch by batch, each batch in one transaction with
        the job's position, under the job's row lock: two runs never apply a row twice,
        and a run restarted after a crash resumes where the last one committed."""
        while True:
            with transaction.atomic():
                job = ImportJob.objects.select_for_update().defer("contenu").get(pk=job_id)
                if job.statut != ImportJob.Statut.IMPORT:
                    return False  # another run has finished it
                batch = self.rows[job.nb_traitees : job.nb_traitees + BATCH_SIZE]
                if not batch:
                    break
                written = [r for r in batch if r.valid and r.action != UNCHANGED]
                self.apply_batch(written)
                rows_imported.send(sender=type(self), job=job, rows=written)
                report = {**empty_report(), **job.rapport}
                for row in batch:
                    report[REPORT_KEYS[row.action] if row.valid else "skipped"] += 1
                job.rapport = report
                job.nb_traitees += len(batch)
                job.maj_le = timezone.now()
                job.save(update_fields=["rapport", "nb_traitees", "maj_le"])
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().defer("contenu").get(pk=job_id)
            if job.statut != ImportJob.Statut.IMPORT:
                return False
            self.finish()
            errors = self.errors()
            job.rapport = {**empty_report(), **job.rapport, "errors": len(errors)}
            job.erreurs = errors[:MAX_STORED_ERRORS]
            job.statut = ImportJob.Statut.TERMINE
            job.termine_le = job.maj_le = timezone.now()
            job.save(update_fields=["rapport", "erreurs", "statut", "termine_le", "maj_le"])
        return True

    def apply_batch(self, rows):
        raise NotImplementedError

    def finish(self):
        """After the last batch, in the transaction that closes the job."""


# --- Cadres ------------------------------------------------------------------------

CIVILITES = {
    **dict.fromkeys(("mme", "madame", "mlle", "mademoiselle", "f"), Cadre.Civilite.MADAME),
    **dict.fromkeys(("m", "monsieur", "mr", "h"), Cadre.Civilite.MONSIEUR),
}
CATEGORIES = {
    normalise(name): value for value, label in Cadre.Categorie.choices for name in (value, label)
}
CADRE_FIELDS = (
    "civilite",
    "nom",
    "prenom",
    "email",
    "matricule",
    "telephone",
    "categorie",
    "corps",
    "grade",
    "fonction",
    "structure_id",
    "responsable_id",
    "date_prise_poste",
)


class CadreImporter(Importer):
    """Cadres, matched by matricule, else by email. The responsable (matricule or
    email) may be another row of the file, before or after."""

    columns = CADRE_COLUMNS
    model = Cadre

    def clean(self, row):
        raw = row.raw
        for key in ("nom", "prenom"):
            self.clean_text(row, key, required=True)
        for key in ("matricule", "corps", "grade", "fonction", "telephone"):
            self.clean_text(row, key)
        if "matricule" in row.data:
            row.data["matricule"] = row.data["matricule"] or None  # as Cadre.save does
        civilite = normalise(raw["civilite"]).replace(" ", "")
        if not civilite:
            row.fail("civilite", "valeur obligatoire.")
        elif civilite not in CIVILITES:
            row.fail("civilite", f"civilité « {raw['civilite']} » inconnue (Madame ou Monsieur).")
        else:
            row.data["civilite"] = CIVILITES[civilite]
        email = raw["email"].lower()
        try:
            validate_email(email)
            row.data["email"] = email
        except ValidationError:
            row.fail(
                "email", f"adresse invalide « {raw['email']} »." if email else "valeur obligatoire."
            )
        if raw.get("categorie"):  # blank: the default for a new cadre, else unchanged
            categorie = CATEGORIES.get(normalise(raw["categorie"]))
            if categorie is None:
                row.fail(
                    "categorie", f"catégorie « {raw['categorie']} » inconnue (A+, A, contractuel)."
                )
            else:
                row.data["categorie"] = categorie
        if "date_prise_poste" in raw:
            text = raw["date_prise_poste"]
            day = parse_date(text) if text else None
            if text and day is None:
                row.fail("date_prise_poste", f"date invalide « {text} » (jj/mm/aaaa attendu).")
            else:
                row.data["date_prise_poste"] = day
        self.clean_structure(row)
        if "responsable" in raw:
            row.ref = (
                raw["responsable"].lower() if "@" in raw["responsable"] else raw["responsable"]
            )
            if not row.ref:
                row.data["responsable_id"] = None

    def clean_structure(self, row):
        text = row.raw["structure"]
        if not text:
            row.fail("structure", "valeur obligatoire.")
            return
        structure, message = self.structures.resolve(text)
        if message:
            row.fail("structure", message)
        elif not self.in_perimeter(structure["chemin"]):
            row.fail("structure", f"structure « {text} » hors de votre périmètre.")
        else:
            row.data["structure_id"] = structure["pk"]

    def check_file(self):
        self.file_matricules = self.find_duplicates("matricule", "matricule")
        self.file_emails = self.find_duplicates("email", "adresse")
        self.by_line = {row.line: row for row in self.rows}
        self.claimed = {}  # pk of an existing cadre -> line of the row that matched it

    def file_line(self, ref):
        return self.file_matricules.get(ref.lower()) or self.file_emails.get(ref.lower())

    @staticmethod
    def lookup(keys):
        """Existing cadres whose matricule or (lower-case) email is among ``keys``:
        ({matricule: values}, {lower-case email: values}). By chunks, as a query has
        at most 65,535 parameters."""
        keys = sorted(keys)
        by_matricule, by_email = {}, {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            found = (
                Cadre.objects.annotate(email_l=Lower("email"))
                .filter(
                    Q(matricule__in=[k for k in chunk if "@" not in k])
                    | Q(email_l__in=[k for k in chunk if "@" in k])
                )
                .values("pk", "email_l", "structure__chemin", *CADRE_FIELDS)
                .order_by()
            )
            for cadre in found:
                if cadre["matricule"]:
                    by_matricule[cadre["matricule"]] = cadre
                by_email[cadre["email_l"]] = cadre
        return by_matricule, by_email

    def check_database(self, rows):
        keys = {r.data["email"] for r in rows} | {
            r.data["matricule"] for r in rows if r.data.get("matricule")
        }
        by_matricule, by_email = self.lookup(keys)
        refs = self.lookup({r.ref for r in rows if r.ref and not self.file_line(r.ref)})
        for row in rows:
            self.match(row, by_matricule, by_email)
            if row.valid and row.ref:
                self.check_responsable(row, refs[0].get(row.ref) or refs[1].get(row.ref))

    def match(self, row, by_matricule, by_email):
        matricule, email = row.data.get("matricule"), row.data["email"]
        target, key = by_matricule.get(matricule) if matricule else None, "matricule"
        owner = by_email.get(email)  # whoever holds this address today
        if target is None and owner is not None:
            if matricule and owner["matricule"] and owner["matricule"] != matricule:
                known = self.in_perimeter(owner["structure__chemin"])
                who = f"le cadre de matricule « {owner['matricule']} »" if known else "un autre"
                row.fail("email", f"adresse déjà utilisée par {who}.")
                return
            target, key = owner, "email"
        elif target is not None and owner is not None and owner["pk"] != target["pk"]:
            row.fail("email", "adresse déjà utilisée par un autre cadre.")
            return
        if target is None:
            return
        if target["pk"] in self.claimed:
            row.fail(key, f"même cadre que la ligne {self.claimed[target['pk']]}.")
        elif not self.in_perimeter(target["structure__chemin"]):
            row.fail(
                key, "ce cadre existe hors de votre périmètre : vous ne pouvez pas le modifier."
            )
        else:
            self.claimed[target["pk"]] = row.line
            row.pk, row.current = target["pk"], target

    def check_responsable(self, row, existing):
        line = self.file_line(row.ref)
        if line == row.line or (existing and existing["pk"] == row.pk):
            row.fail("responsable", "un cadre ne peut pas être son propre supérieur hiérarchique.")
        elif line:
            row.ref_line = line  # resolved once every row is checked
        elif existing is None:
            row.fail(
                "responsable",
                f"responsable « {row.raw['responsable']} » introuvable, ni dans le fichier ni "
                "parmi les cadres.",
            )
        elif not self.in_perimeter(existing["structure__chemin"]):
            row.fail("responsable", "responsable hors de votre périmètre.")
        else:
            row.data["responsable_id"] = existing["pk"]

    def check_references(self):
        """A responsable given by another row: that row must be valid. Repeated, as a
        row in error makes the rows pointing at it fail in turn."""
        pending = [r for r in self.rows if r.ref_line]
        changed = True
        while changed:
            changed = False
            for row in pending:
                if row.valid and not self.by_line[row.ref_line].valid:
                    row.fail("responsable", f"le responsable (ligne {row.ref_line}) est en erreur.")
                    changed = True
        for row in pending:
            boss = self.by_line[row.ref_line]
            if row.valid and boss.pk:
                row.data["responsable_id"] = boss.pk

    def decide(self, row):
        action = super().decide(row)
        if action == UNCHANGED and row.ref_line and "responsable_id" not in row.data:
            return UPDATE  # the responsable is a cadre this import creates
        return action

    def apply_batch(self, rows):
        now = timezone.now()
        creates = [r for r in rows if r.action == CREATE]
        for row, cadre in zip(
            creates, Cadre.objects.bulk_create([Cadre(**r.data) for r in creates]), strict=True
        ):
            row.pk = cadre.pk
        updates = sorted((r for r in rows if r.action == UPDATE), key=lambda r: sorted(r.data))
        for fields, group in groupby(updates, key=lambda r: sorted(r.data)):
            cadres = [Cadre(pk=row.pk, modifie_le=now, **row.data) for row in group]
            Cadre.objects.bulk_update(cadres, [*fields, "modifie_le"], batch_size=500)

    def finish(self):
        """Set the responsables the file gives where they differ (some are cadres
        this import created). Idempotent: a resumed import gets them right too."""
        rows = [r for r in self.rows if r.valid and r.ref]
        if not rows:
            return

        def identity(row):
            return row.data.get("matricule") or row.data["email"]

        refs = {
            row.line: identity(self.by_line[row.ref_line]) if row.ref_line else row.ref
            for row in rows
        }
        by_matricule, by_email = self.lookup({identity(r) for r in rows} | set(refs.values()))
        now, updates = timezone.now(), []
        for row in rows:
            own = by_matricule.get(identity(row)) or by_email.get(row.data["email"])
            boss = by_matricule.get(refs[row.line]) or by_email.get(refs[row.line])
            if own and boss and own["responsable_id"] != boss["pk"]:
                updates.append(Cadre(pk=own["pk"], responsable_id=boss["pk"], modifie_le=now))
        Cadre.objects.bulk_update(updates, ["responsable_id", "modifie_le"], batch_size=500)


# --- Structures --------------------------------------------------------------------

STRUCTURE_TYPES = {
    normalise(name): value for value, label in Structure.Type.choices for name in (value, label)
}


class StructureImporter(Importer):
    """Structures, matched by their HR code. A parent may come after its children in
    the file (rows are applied parents first); moving a structure moves its subtree;
    a row that would put a structure under itself is an error.

    The plan reasons on *nodes*: a structure's code (lower case), or "#<pk>" for a
    structure without a code, so that structures still to create have a name."""

    columns = STRUCTURE_COLUMNS
    model = Structure

    def __init__(self, user, table):
        super().__init__(user, table)
        roots = {p.rstrip("/").rsplit("/", 1)[-1] for p in self.paths or ()}
        self.roots = {self.node(self.structures.all[int(pk)]) for pk in roots}

    @staticmethod
    def node(structure):
        return structure["code"].lower() if structure["code"] else f"#{structure['pk']}"

    def clean(self, row):
        self.clean_text(row, "code", required=True)
        self.clean_text(row, "nom", required=True)
        self.clean_text(row, "sigle")
        if row.raw.get("type"):  # blank: unchanged (required for a new structure)
            kind = STRUCTURE_TYPES.get(normalise(row.raw["type"]))
            if kind is None:
                labels = ", ".join(label for _, label in Structure.Type.choices)
                row.fail("type", f"type « {row.raw['type']} » inconnu ({labels}).")
            else:
                row.data["type"] = kind
        row.ref = row.raw.get("code_parent", "")

    def check_file(self):
        self.file_codes = self.find_duplicates("code", "code")
        self.by_line = {row.line: row for row in self.rows}

    def check_database(self, rows):
        for row in rows:
            existing = self.structures.by_code.get(row.data["code"].lower())
            if existing is None and "type" not in row.data:
                row.fail("type", "valeur obligatoire pour une nouvelle structure.")
            elif existing is not None and not self.in_perimeter(existing["chemin"]):
                row.fail("code", "structure hors de votre périmètre.")
            else:
                if existing is not None:
                    row.pk, row.current = existing["pk"], existing
                self.resolve_parent(row)

    def current_parent(self, structure):
        parent = structure["parent_id"]
        return self.node(self.structures.all[parent]) if parent else None

    def resolve_parent(self, row):
        if "code_parent" not in self.found:  # no such column: the parent stays
            row.parent = self.current_parent(row.current) if row.current else None
        elif not row.ref:
            row.parent = None
        elif (line := self.file_codes.get(row.ref.lower())) == row.line:
            row.fail("code_parent", "une structure ne peut pas être rattachée à elle-même.")
        elif line:
            row.ref_line, row.parent = line, row.ref.lower()
        else:
            parent, message = self.structures.resolve(row.ref)
            if parent is None:
                row.fail("code_parent", message)
            else:
                row.parent = self.node(parent)

    def final_parents(self):
        """The tree as it will be: the database, moved by the valid rows."""
        parents = {self.node(s): self.current_parent(s) for s in self.structures.all.values()}
        parents.update({r.data["code"].lower(): r.parent for r in self.rows if r.valid})
        return parents

    @staticmethod
    def ancestors(node, parents):
        chain = []
        while node is not None and node not in chain:
            chain.append(node)
            node = parents.get(node)
        return chain

    def check_references(self):
        """Cycles, then parents in error and the perimeter, on the final tree; again
        until stable, since a row in error leaves its structure where it is."""
        while True:
            parents = self.final_parents()
            failed = False
            for row in self.rows:
                if row.valid and row.data["code"].lower() in self.ancestors(row.parent, parents):
                    row.fail(
                        "code_parent",
                        "rattachement circulaire : la structure se retrouverait sous l'une de "
                        "ses propres sous-structures.",
                    )
                    failed = True
            if failed:
                continue
            for row in self.rows:
                if row.valid and self.misplaced(row, parents):
                    failed = True
            if not failed:
                break
        # Parents first: every row then finds its parent in place.
        depth = {r.line: len(self.ancestors(r.parent, parents)) for r in self.rows if r.valid}
        self.rows.sort(key=lambda r: (depth.get(r.line, 0), r.line))

    def misplaced(self, row, parents):
        """Fails the row (and says so) if its parent is unusable or outside the
        user's perimeter."""
        parent_row = self.by_line[row.ref_line] if row.ref_line else None
        if parent_row and not parent_row.valid and row.parent not in self.structures.by_code:
            # a new structure that will not be created (an existing one stays usable)
            row.fail("code_parent", f"la structure parente (ligne {row.ref_line}) est en erreur.")
            return True
        if self.paths is None:
            return False
        if row.parent is None:
            row.fail(
                "code_parent",
                "seul un administrateur national peut importer une structure de premier niveau.",
            )
            return True
        if not self.roots.intersection(self.ancestors(row.parent, parents)):
            row.fail("code_parent", "structure parente hors de votre périmètre.")
            return True
        return False

    def decide(self, row):
        action = super().decide(row)
        if action == UNCHANGED and row.parent != self.current_parent(row.current):
            return UPDATE
        return action

    def apply_batch(self, rows):
        codes = {r.parent for r in rows if r.parent and not r.parent.startswith("#")}
        pks = dict(
            Structure.objects.annotate(code_l=Lower("code"))
            .filter(code_l__in=codes)
            .values_list("code_l", "pk")
        )
        for row in rows:
            if row.parent is None:
                parent_id = None
            elif row.parent.startswith("#"):
                parent_id = int(row.parent[1:])
            else:
                parent_id = pks[row.parent]
            if row.action == CREATE:
                structure = Structure(parent_id=parent_id, **row.data)
            else:
                structure = Structure.objects.get(pk=row.pk)
                for name, value in row.data.items():
                    setattr(structure, name, value)
                structure.parent_id = parent_id
            structure.save()  # computes the path, moves the subtree
            pks[structure.code.lower()] = structure.pk


IMPORTERS = {
    ImportJob.Nature.CADRES: CadreImporter,
    ImportJob.Nature.STRUCTURES: StructureImporter,
}


def importer_for(job):
    table = read_table(job.nom_fichier, bytes(job.contenu))
    return IMPORTERS[job.nature](job.cree_par, table)


# --- Jobs: what the admin and the tasks call -----------------------------------------


@transaction.atomic
def submit(user, nature, name, content):
    """Record the file and queue its analysis (after commit; the sweep catches up
    when the broker is down)."""
    from .services import enqueue
    from .tasks import analyse_import

    job = ImportJob.objects.create(
        nature=nature, nom_fichier=name[-255:], contenu=content, cree_par=user
    )
    enqueue(analyse_import, job.pk)
    return job


def confirm(job_id):
    """The délégué confirms the preview: queue the import of the valid rows."""
    from .services import enqueue
    from .tasks import run_import

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().defer("contenu").get(pk=job_id)
        if job.statut != ImportJob.Statut.A_CONFIRMER or not valid_rows(job):
            return False
        job.statut = ImportJob.Statut.A_LANCER
        job.nb_traitees = 0
        job.rapport = {}
        job.maj_le = timezone.now()
        job.save(update_fields=["statut", "nb_traitees", "rapport", "maj_le"])
        enqueue(run_import, job.pk)
    return True


def valid_rows(job):
    preview = job.apercu
    return preview.get("created", 0) + preview.get("updated", 0) + preview.get("unchanged", 0)


def _claim(job_id, waiting, running):
    """Move a job from ``waiting`` to ``running``, or take over a ``running`` job
    gone silent (its worker died). None when another run has it or it is done."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        silent = job.statut == running and job.maj_le < timezone.now() - STALE_AFTER
        if job.statut != waiting and not silent:
            return None
        job.statut, job.maj_le = running, timezone.now()
        job.save(update_fields=["statut", "maj_le"])
    return job


def _fail(job_id, message):
    ImportJob.objects.filter(pk=job_id).update(
        statut=ImportJob.Statut.ECHEC, message=message, maj_le=timezone.now()
    )


def analyse(job_id):
    """Dry run: check every row, store the errors and what the import would do."""
    job = _claim(job_id, ImportJob.Statut.EN_ATTENTE, ImportJob.Statut.ANALYSE)
    if job is None:
        return False
    try:
        importer = importer_for(job)
    except ImportFileError as exc:
        _fail(job_id, str(exc))
        return False
    total = len(importer.table.rows)
    ImportJob.objects.filter(pk=job_id).update(nb_lignes=total, nb_traitees=0)

    def progress(done):
        ImportJob.objects.filter(pk=job_id).update(nb_traitees=done, maj_le=timezone.now())

    try:
        importer.plan(progress)
    except Exception:
        logger.exception("Analysis of import %s failed", job_id)
        _fail(job_id, "L'analyse a échoué sur une erreur inattendue : réessayez plus tard.")
        raise
    errors = importer.errors()
    preview = {**importer.counts(), "errors": len(errors), "ignored": importer.ignored}
    if importer.file_errors:
        preview["skipped"] = total
    ImportJob.objects.filter(pk=job_id, statut=ImportJob.Statut.ANALYSE).update(
        statut=ImportJob.Statut.A_CONFIRMER,
        nb_traitees=total,
        erreurs=errors[:MAX_STORED_ERRORS],
        apercu=preview,
        maj_le=timezone.now(),
    )
    return True


def run(job_id):
    """The import of the valid rows, checked again against today's database."""
    job = _claim(job_id, ImportJob.Statut.A_LANCER, ImportJob.Statut.IMPORT)
    if job is None:
        return False
    try:
        importer = importer_for(job)
        importer.plan()
        return importer.apply(job_id)
    except Exception:
        logger.exception("Import %s failed", job_id)
        _fail(
            job_id,
            "L'import s'est interrompu sur une erreur inattendue. Les lots déjà importés "
            "sont conservés ; déposez à nouveau le fichier pour terminer.",
        )
        raise


def requeue_stalled():
    """Beat sweep: queue again the jobs whose task was lost (broker down when it was
    queued) or whose worker died. Each task checks the status first, so a job queued
    twice runs once."""
    from .tasks import analyse_import, run_import

    now = timezone.now()
    Statut = ImportJob.Statut
    stalled = ImportJob.objects.filter(
        Q(statut__in=[Statut.EN_ATTENTE, Statut.A_LANCER], maj_le__lt=now - WAITING_GRACE)
        | Q(statut__in=[Statut.ANALYSE, Statut.IMPORT], maj_le__lt=now - STALE_AFTER)
    ).values_list("pk", "statut")
    jobs = list(stalled[:100])
    for pk, statut in jobs:
        task = analyse_import if statut in {Statut.EN_ATTENTE, Statut.ANALYSE} else run_import
        task.delay(pk)
    return len(jobs)
