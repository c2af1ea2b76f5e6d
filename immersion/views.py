from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from .models import Immersion


@login_required
def immersion_list(request):
    immersions = Immersion.objects.filter(cadre__user=request.user)
    return render(request, "immersion/list.html", {"immersions": immersions})


@login_required
def immersion_detail(request, pk):
    immersion = get_object_or_404(Immersion, pk=pk, cadre__user=request.user)
    return render(request, "immersion/detail.html", {"immersion": immersion})


def sign(request, token):
    raise Http404
