from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cadres.models import Cadre, Role
from cadres.perimeter import filter_for_user


@login_required
def home(request):
    """The signed-in person's home: their cadre profile, then one panel per role."""
    user = request.user
    cadre = (
        Cadre.objects.select_related("structure", "responsable")
        .prefetch_related("viviers")
        .filter(user=user)
        .first()
    )
    roles = list(user.roles.prefetch_related("structures"))
    kinds = {role.kind for role in roles}
    staff_perimeter_count = None
    if kinds & Role.STAFF_KINDS or user.is_superuser:
        staff_perimeter_count = filter_for_user(Cadre.objects.all(), user, "structure").count()
    return render(
        request,
        "accompagnement/home.html",
        {
            "page_title": "Mon espace",
            "cadre": cadre,
            "roles": roles,
            "kinds": kinds,
            "Kind": Role.Kind,
            "staff_perimeter_count": staff_perimeter_count,
        },
    )
