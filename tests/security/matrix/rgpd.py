"""Personal data (``/espace/mes-donnees/``): the cadre's own data only; anybody without
a cadre profile gets 404. The audit trail's admin rows come from ``admin.py``."""

from . import OK, Row, only

OWN = {"cadre": OK, "other_cadre": OK}  # each downloads their own: no object in the URL

ROWS = [
    Row("rgpd:mes_donnees", expect=only(**OWN)),
    Row("rgpd:export_json", expect=only(**OWN)),
    Row("rgpd:export_pdf", expect=only(**OWN)),
]
