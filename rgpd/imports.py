"""HR imports in the audit trail: they write cadres in bulk, which auditlog's model
signals do not see, so each row written gets its entry here, in the batch's
transaction (``cadres.importing.rows_imported``), with who imported which file."""

from django.contrib.contenttypes.models import ContentType

from cadres import importing
from cadres.models import Cadre

from .models import Trace


def _text(value):
    return None if value is None else str(value)


def _changes(row):
    """auditlog's shape, {field: [before, after]}, for the fields the row changes."""
    before = row.current or {}
    return {
        name: [_text(before.get(name)), _text(value)]
        for name, value in row.data.items()
        if row.action == importing.CREATE or before.get(name) != value
    }


def record_cadres_import(sender, job, rows, **kwargs):
    content_type = ContentType.objects.get_for_model(Cadre)
    Trace.objects.bulk_create(
        [
            Trace(
                content_type=content_type,
                object_pk=str(row.pk),
                object_id=row.pk,
                object_repr=" ".join(
                    filter(None, [row.data.get("prenom"), (row.data.get("nom") or "").upper()])
                )
                or f"cadre n° {row.pk}",
                action=Trace.Action.CREATE
                if row.action == importing.CREATE
                else Trace.Action.UPDATE,
                changes=_changes(row),
                changes_text=f"Import n° {job.pk} ({job.nom_fichier})",
                actor_id=job.cree_par_id,
                cadre_id=row.pk,
                chemin=f"import n° {job.pk}",
            )
            for row in rows
        ]
    )


def connect():
    importing.rows_imported.connect(
        record_cadres_import, sender=importing.CadreImporter, dispatch_uid="rgpd-cadres-import"
    )
