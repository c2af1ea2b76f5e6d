from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


@never_cache
def health(request):
    """Load-balancer health check: the process answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"statut": "ok"})


def page(template, title, **context):
    def view(request):
        return render(request, template, {"page_title": title, **context})

    return view


def admin_login(request, extra_context=None):
    """Replaces the admin's own password form, which would bypass allauth and MFA."""
    from django.contrib import admin
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = reverse("admin_dashboard")
    if not request.user.is_authenticated:
        return redirect_to_login(target, reverse("account_login"))
    if admin.site.has_permission(request):
        return redirect(target)
    raise PermissionDenied("Votre compte n'a pas accès à l'administration.")
