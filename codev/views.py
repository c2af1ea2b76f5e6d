"""The facilitator space (/codev/) and the members' view of their groups."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from .models import Groupe, Seance


def groupes_of(user):
    """Groups the user animates or belongs to; nobody sees other groups."""
    return Groupe.objects.filter(
        Q(animateur=user) | Q(membres__cadre__user=user, membres__date_sortie__isnull=True)
    ).distinct()


@login_required
def groupe_list(request):
    return render(
        request,
        "codev/groupe_list.html",
        {"page_title": "Codéveloppement", "groupes": groupes_of(request.user)},
    )


@login_required
def groupe_detail(request, pk):
    groupe = get_object_or_404(groupes_of(request.user), pk=pk)
    return render(request, "codev/groupe_detail.html", {"page_title": groupe.nom, "groupe": groupe})


@login_required
def seance_runner(request, pk):
    seance = get_object_or_404(Seance, pk=pk, groupe__animateur=request.user)
    return render(request, "codev/seance.html", {"page_title": str(seance), "seance": seance})
