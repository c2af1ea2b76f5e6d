"""Portal pages of coaching: the coached cadre and the coach, each seeing only theirs."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from .models import Coaching


def _mine(user):
    return Coaching.objects.filter(Q(cadre__user=user) | Q(coach__user=user)).select_related(
        "cadre__structure", "coach"
    )


@login_required
def coaching_list(request):
    return render(
        request,
        "coaching/list.html",
        {"page_title": "Coaching", "coachings": _mine(request.user).order_by("-cree_le")},
    )


@login_required
def coaching_detail(request, pk):
    coaching = get_object_or_404(_mine(request.user), pk=pk)
    return render(
        request,
        "coaching/detail.html",
        {"page_title": f"Coaching de {coaching.cadre}", "coaching": coaching},
    )
