"""A fix to Django's admin autocomplete widget, for every admin of the project.

When a form comes back with errors, the widget looks the submitted value up in the
related table as it is: a value the key cannot hold ("abc", "1e309" or a number past the
column's range for an integer id) raised ValueError, a server error instead of the
form's "Sélectionnez un choix valide" message. Only values the key accepts are looked up;
the form's own validation still reports the others.
"""

from django.contrib.admin.widgets import AutocompleteMixin
from django.core.exceptions import ValidationError
from django.db import connection

_optgroups = AutocompleteMixin.optgroups


def _key_field(widget):
    opts = widget.field.remote_field.model._meta
    return opts.get_field(getattr(widget.field.remote_field, "field_name", opts.pk.attname))


def _storable(field, value):
    try:
        python_value = field.to_python(value)
    except (TypeError, ValueError, ValidationError):
        return False
    if isinstance(python_value, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (low is None or python_value >= low) and (high is None or python_value <= high)
    return True


def optgroups(self, name, value, attr=None):
    field = _key_field(self)
    return _optgroups(self, name, [v for v in value if _storable(field, v)], attr)


def install():
    AutocompleteMixin.optgroups = optgroups
