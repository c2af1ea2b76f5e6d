"""Bad input everywhere: random data posted to every form of the project.

For every page of the permission matrix that some role may open (portal, co-development,
immersion, staff pages, and the admin's add and change pages of every project model),
the page is read as that role, the ``<form method="post">`` it contains are parsed, and
hypothesis posts to each of them (or, for a page without a form, to the page itself)
data built from the form's own fields: any text (unicode, control characters, NUL, very
long strings), numbers, dates in odd formats, valid and invalid choices, missing fields,
repeated and extra fields, random files. The answer must never be a server error, and
unless it is a redirect (the action done, or refused with a message), no table of the
project may have gained or lost a row: nothing half-saved.

Each example runs in a savepoint rolled back afterwards, so examples do not pile up.
``derandomize=True``: the same examples on every run (CI included).
"""

import copy
import os
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.security.matrix import OK, all_rows
from tests.security.test_matrix import outcome
from tests.security.world import ROLES

EXAMPLES = 15
# Shrinking a failure re-posts hundreds of times: set FUZZ_SHRINK=1 to get the smallest.
PHASES = [Phase.explicit, Phase.generate] + (
    [Phase.shrink] if os.environ.get("FUZZ_SHRINK") else []
)
ADMIN_EXAMPLES = 8  # an admin form re-rendered with its errors is slow: fewer examples
# Who fills a form, when several roles may: the people it is made for first.
PREFERENCE = [
    "cadre",
    "coach",
    "mentor",
    "animateur",
    "delegue",
    "admin",
    "other_cadre",
    "other_coach",
    "other_animateur",
    "other_delegue",
    "tutor",
    "anonymous",
]
# Admin pages fuzzed: the forms that create and change objects.
# The add page of every project model, and the change page of the main ones.
ADMIN_CHANGED = {
    "admin:cadres_cadre_change",
    "admin:accompagnement_demande_change",
    "admin:coaching_coaching_change",
    "admin:mentorat_mentorat_change",
    "admin:codev_groupe_change",
    "admin:immersion_immersion_change",
}
# Downloads and feeds have no form; the sign-out would end the role's session.
SKIPPED = {
    "account_logout",
    "admin:logout",
    "calendar_feed",
    "health",
    "cadres_import_errors",
    "cadres_import_model",
    "cadres_import_status",
    "immersion:convention_pdf",
    "immersion_public:signer_pdf",
    "mentorat:activite_csv",
    "mentorat:activite_pdf",
    "rgpd:export_json",
    "rgpd:export_pdf",
}
# Rows whose count legitimately changes on any request: sessions, sign-in attempts
# (django-axes) and the audit trail of what was read.
UNCOUNTED_APPS = {"sessions", "axes", "auditlog", "rgpd"}


def _role_for(row):
    for role in PREFERENCE:
        if row.expect.get(role) == OK:
            return role
    return None


def _ours(admin_name):
    """An admin URL of one of the project's models (not a third-party one)."""
    return _is_project_app(apps.get_app_config(admin_name.split(":", 1)[1].split("_", 1)[0]))


def _is_project_app(config):
    return config.path.startswith(str(django_settings.BASE_DIR)) and "site-packages" not in (
        config.path
    )


def _fuzzed_rows():
    rows = []
    for row in all_rows():
        if row.method != "get" or row.name in SKIPPED or row.variant in {"forged", "in B"}:
            continue
        if row.name.startswith("admin:") and not (
            (row.name.endswith("_add") and _ours(row.name)) or row.name in ADMIN_CHANGED
        ):
            continue
        if row.name.startswith("route:"):
            continue
        if _role_for(row):
            rows.append(row)
    return rows


ROWS = _fuzzed_rows()


# --- the forms of a page ---------------------------------------------------------------


class FormParser(HTMLParser):
    """The POST forms of a page: action, and each field's name, kind and known values."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._form = {"action": attrs.get("action") or "", "fields": {}}
                self.forms.append(self._form)
            return
        if self._form is None or not attrs.get("name"):
            if tag == "option" and self._select is not None:
                self._select["values"].append(attrs.get("value", ""))
            return
        name = attrs["name"]
        if tag in {"input", "textarea", "select", "button"}:
            kind = attrs.get("type", "text") if tag == "input" else tag
            field = self._form["fields"].setdefault(name, {"kind": kind, "values": []})
            if "value" in attrs:
                field["values"].append(attrs["value"] or "")
            self._select = field if tag == "select" else None

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(html):
    parser = FormParser()
    parser.feed(html)
    return [
        {**form, "fields": {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}}
        for form in parser.forms
    ]


# --- what gets posted --------------------------------------------------------------------

ODD_DATES = [
    "31/02/2026",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "1-1-1",
    "29/02/2027",
    "demain",
    "2026-06-01T25:61",
    "01/06/2026 14:00",
    "-1",
]
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
) | st.sampled_from(["", " ", "\x00", "é" * 300, "<script>alert(1)</script>", "' OR 1=1 --"])
NUMBERS = st.integers(min_value=-(2**63), max_value=2**63).map(str) | st.sampled_from(
    ["0", "-1", "1e309", "NaN", "3.5", "١٢", "99999999999999999999999"]
)


def _value(field):
    choices = [st.just(v) for v in field["values"]]
    kinds = [TEXT, NUMBERS, st.sampled_from(ODD_DATES), st.dates().map(str)]
    return st.one_of(*choices, *kinds)


@st.composite
def payloads(draw, fields):
    data = {}
    for name, field in fields.items():
        if field["kind"] == "file":
            if draw(st.booleans()):
                content = draw(st.binary(max_size=300))
                filename = draw(st.sampled_from(["a.csv", "b.xlsx", "c.pdf", "d", "é.txt"]))
                data[name] = SimpleUploadedFile(filename, content)
            continue
        how = draw(st.sampled_from(["value"] * 6 + ["missing", "missing", "many", "huge"]))
        if how == "missing":
            continue
        if how == "many":
            data[name] = draw(st.lists(_value(field), min_size=2, max_size=3))
        elif how == "huge":
            data[name] = "x" * 20_000
        else:
            data[name] = draw(_value(field))
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=12), TEXT, max_size=2))
    for name, value in extra.items():
        data.setdefault(name, value)
    return data


# --- the check --------------------------------------------------------------------------


def _counted_tables():
    tables = []
    for model in apps.get_models():
        config = apps.get_app_config(model._meta.app_label)
        ours = _is_project_app(config) or config.label in {"auth", "account", "mfa"}
        counted = model._meta.managed and not model._meta.proxy
        if ours and counted and config.label not in UNCOUNTED_APPS:
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def table_states():
    """Every counted table's state, in one query: on PostgreSQL a fingerprint of all its
    rows (so that a changed value shows, not only an added or deleted row), elsewhere
    its row count."""
    tables = _counted_tables()
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        state = (
            "(SELECT COUNT(*) || ':' || COALESCE(md5(string_agg(md5(r::text), '' "
            "ORDER BY md5(r::text))), '') FROM {} r)"
        )
    else:
        state = "(SELECT COUNT(*) FROM {})"
    sql = "SELECT " + ", ".join(state.format(quote(t)) for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


NO_FORM = {"action": "", "fields": {}}


def _target(form, page):
    action = urlsplit(form["action"]).path
    return action or page


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_random_posts_never_fail_nor_half_save(row, world, clients):
    role = _role_for(row)
    client = clients[role]
    page = row.path(world)
    forms = forms_of(client.get(page).content.decode(errors="replace")) or [NO_FORM]
    # A page without a field gets a few posts of stray fields; a form, the full run.
    examples = ADMIN_EXAMPLES if row.name.startswith("admin:") else EXAMPLES
    if not any(form["fields"] for form in forms):
        examples = 3

    @settings(
        phases=PHASES,
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def post_random_data(data):
        form = data.draw(st.sampled_from(forms), label="form")
        target = _target(form, page)
        payload = data.draw(payloads(form["fields"]), label="payload")
        cookies = copy.deepcopy(client.cookies)
        with transaction.atomic():
            before = table_states()
            response = client.post(target, payload)
            after = table_states()
            transaction.set_rollback(True)
        client.cookies = cookies
        assert response.status_code < 500, f"{role} POST {target}: {response.status_code}"
        if outcome(response) != "redirect":
            changed = [t for t in before if before[t] != after[t]]
            assert not changed, f"{role} POST {target} answered {response.status_code} but saved"

    post_random_data()


def test_forms_are_found(world, clients):
    """The parser finds the fields of a known form (else the fuzzing posts nothing)."""
    from django.urls import reverse

    forms = forms_of(clients["cadre"].get(reverse("portal:demande_create")).content.decode())
    assert any({"dispositif", "motivation"} <= set(form["fields"]) for form in forms)
    assert len(ROWS) > 50
    assert set(PREFERENCE) == set(ROLES)
