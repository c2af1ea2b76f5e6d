"""Admin behaviours shared by the lists of every app."""


class ReadOnlyAdminMixin:
    """A list or an inline to read only: rows are written by the application (the
    outbox, the audit trail, the waiting list, sessions, convention versions), never
    added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
