"""The benchmark's pages make as many SQL queries on a dataset three times larger:
the regression test of the query budget of issue 10 (not timed). The same probe
as ``make bench`` chooses the visitors and counts the queries."""

from io import StringIO

import pytest
from django.core.management import call_command

from bench import probe
from cadres.models import Cadre

pytestmark = pytest.mark.django_db


def seed(*args, n):
    call_command("seed_scale", "--cadres", str(n), *args, stdout=StringIO())


def query_counts():
    return {key: page["queries"] for key, page in probe.probe().items()}


def test_every_benchmarked_page_makes_the_same_queries_at_three_times_the_size(settings):
    settings.ROOT_URLCONF = "bench.urls"  # the constant view, as in the benchmark
    settings.ALLOWED_HOSTS = [probe.HOST]
    seed(n=40)
    small = query_counts()
    seed("--append", n=80)
    assert Cadre.objects.count() >= 120
    large = query_counts()
    assert set(small) == {
        "bare",
        "home",
        "groupe",
        "dashboard",
        "admin_cadres",
        "admin_coachings",
        "admin_immersions",
    }
    assert small["bare"] == 0
    assert small["home"] > 5 and small["admin_cadres"] > 3  # real pages were counted
    assert large == small, (small, large)
