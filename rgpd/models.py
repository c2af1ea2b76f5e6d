"""The audit trail: one table for changes and views of personal data.

django-auditlog writes its entries here (``AUDITLOG_LOGENTRY_MODEL``). Each entry is
linked to the cadre it concerns, so that a délégué reads the entries of their
perimeter in one indexed query; ``chemin`` is the page that caused it.
"""

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import models

from cadres.models import Cadre


class TraceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Administrators read everything; a délégué, the entries about cadres of their
        perimeter (entries about no cadre, such as a coach's profile, stay national)."""
        from cadres.perimeter import filter_for_user

        return filter_for_user(self, user, "cadre__structure")


class TraceManager(LogEntryManager.from_queryset(TraceQuerySet)):
    """auditlog's manager, which also records the cadre an entry is about."""

    def log_create(self, instance, force_log=False, **kwargs):
        from .audit import cadre_id_of

        kwargs.setdefault("cadre_id", cadre_id_of(instance))
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        from .audit import cadre_id_of

        kwargs.setdefault("cadre_id", cadre_id_of(instance))
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class Trace(AbstractLogEntry):
    class Action(AbstractLogEntry.Action):
        choices = (
            (AbstractLogEntry.Action.CREATE, "Création"),
            (AbstractLogEntry.Action.UPDATE, "Modification"),
            (AbstractLogEntry.Action.DELETE, "Suppression"),
            (AbstractLogEntry.Action.ACCESS, "Consultation"),
        )

    action = models.PositiveSmallIntegerField("action", choices=Action.choices, db_index=True)
    # No database constraint: the history of a deleted cadre stays (national
    # administrators still read it by the cadre's id), and deleting a cadre logs the
    # deletion of its rows without pointing at a row that is gone.
    cadre = models.ForeignKey(
        Cadre,
        verbose_name="cadre concerné",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    chemin = models.CharField("page", max_length=255, blank=True, default="")

    objects = TraceManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"
        indexes = [
            # A cadre's history, newest first (the admin's filter, the RGPD export).
            models.Index(fields=["cadre", "-timestamp"], name="trace_cadre_timestamp"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} – {self.object_repr}"
