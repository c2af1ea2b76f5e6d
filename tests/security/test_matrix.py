"""Every URL of the project, asked by every role: see ``tests/security/matrix/`` for the
roles, the expected answers and how to add a row."""

import copy

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.matrix import DONE, LOGIN, REDIRECT, all_rows, route_key
from tests.security.world import ROLES

ROWS = all_rows()
SIGN_IN = ("/compte/login/", "/admin/login/")


def url_patterns(resolver=None, prefix="", namespace=None):
    """(key, route) of every URL pattern: ``ns:name``, or the route key if unnamed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern, route, ns)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield route_key(route), route


def outcome(response):
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        return LOGIN if location.startswith(SIGN_IN) else REDIRECT
    return response.status_code


def matches(expected, actual):
    if expected == DONE:
        return actual in (200, 400, REDIRECT)
    return expected == actual


def ask(client, row, world):
    """One request, rolled back: an allowed action must not change the next role's world."""
    path = row.path(world)
    cookies = copy.deepcopy(client.cookies)  # a sign-out must not last either
    with transaction.atomic():
        response = getattr(client, row.method)(path, row.resolve_data(world))
        transaction.set_rollback(True)
    client.cookies = cookies
    return path, response


def test_every_url_has_a_row():
    covered = {row.name for row in ROWS}
    missing = sorted(f"{key}  ({route})" for key, route in url_patterns() if key not in covered)
    assert not missing, "URL patterns without a row in tests/security/matrix/:\n" + "\n".join(
        missing
    )


def test_rows_name_real_urls_and_every_role():
    known = {key for key, _ in url_patterns()}
    assert not [row.id for row in ROWS if row.name not in known]
    assert not [row.id for row in ROWS if set(row.expect) != set(ROLES)]
    ids = [row.id for row in ROWS]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"rows sharing a name and a variant (give them a variant): {twice}"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_permission_matrix(row, world, clients):
    wrong = []
    for role in ROLES:
        path, response = ask(clients[role], row, world)
        actual = outcome(response)
        if not matches(row.expect[role], actual):
            location = response.get("Location", "")
            wrong.append(f"{role:16} expected {row.expect[role]!s:9} got {actual} {location}")
    assert not wrong, f"{row.method.upper()} {path}\n" + "\n".join(wrong)


def test_every_admin_model_has_an_access_line():
    from django.contrib import admin

    from tests.security.matrix.admin import ACCESS

    labels = {model._meta.label_lower for model in admin.site._registry}
    assert not sorted(labels - set(ACCESS)), "add them to ACCESS in tests/security/matrix/admin.py"
    assert not sorted(set(ACCESS) - labels)
