"""The project's URLs plus one constant view, for the benchmark server only
(``bench.settings``): the real URL configuration stays untouched."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

BARE_PATH = "bench/constante/"


def constant(request):
    """The limit: the whole middleware stack, no query, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path(BARE_PATH, constant, name="bench_constant"), *project_urlpatterns]
