"""Pieces of ``bench/run.py`` that need no server: the constant view's URL
configuration and the stamp that decides whether a dataset is reused."""

import pytest
from django.test import RequestFactory
from django.urls import get_resolver

from bench import run
from bench.urls import BARE_PATH, constant
from config import urls as project_urls


@pytest.mark.django_db
def test_constant_view_answers_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = constant(RequestFactory().get("/" + BARE_PATH))
    assert response.status_code == 200
    assert response.content == b"ok"


def test_bench_urls_are_the_projects_plus_the_constant_view():
    bench = get_resolver("bench.urls")
    assert bench.resolve("/" + BARE_PATH).func is constant
    # Every project route resolves the same through the bench configuration.
    for route in ("/espace/", "/admin/tableau-de-bord/", "/admin/cadres/cadre/", "/sante/"):
        assert bench.resolve(route).func == get_resolver(project_urls).resolve(route).func
    # ... and the project itself does not serve it.
    assert all(str(p.pattern) != BARE_PATH for p in project_urls.urlpatterns)


def test_dataset_stamp_depends_on_the_size_only_through_n():
    assert run.stamp(2000) == run.stamp(2000)
    assert run.stamp(2000) != run.stamp(20000)
    assert run.stamp(2000).startswith("seed_scale N=2000 ")
