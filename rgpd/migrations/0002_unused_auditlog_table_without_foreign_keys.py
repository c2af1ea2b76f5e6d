"""auditlog's own table stays (its migrations create it) but is never written: entries go
to rgpd.Trace (AUDITLOG_LOGENTRY_MODEL). Its foreign keys to the users and content types
would make PostgreSQL refuse to TRUNCATE those tables (``flush``, transactional tests), as
Django no longer lists that table among its own; they are dropped."""

from django.db import migrations


def drop_foreign_keys(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = "auditlog_logentry"
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, constraint in constraints.items():
        if constraint["foreign_key"]:
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} "
                f"DROP CONSTRAINT {schema_editor.quote_name(name)}"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("rgpd", "0001_audit_trail"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(drop_foreign_keys, migrations.RunPython.noop)]
