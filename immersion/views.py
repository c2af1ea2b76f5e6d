"""Portal pages of the immersion (the agent, seeing only theirs) and the tutor's
feedback by link (no account). Every lookup is restricted to the request's user, so an
immersion of someone else answers 404. The décret's rules live in ``services``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from cadres.forms import PortalFormMixin
from cadres.models import Cadre
from cadres.perimeter import delegues_for

from . import rules, services
from .forms import FeedbackForm, ImmersionRequestForm
from .models import Convention, Immersion, Retour, Signature


def _mine(user):
    return Immersion.objects.filter(cadre__user=user).select_related("cadre")


@login_required
def immersion_list(request):
    immersions = list(
        _mine(request.user)
        .annotate(nb_jours=Count("jours"), premier_jour=Min("jours__date"))
        .order_by("-recue_le", "-pk")
    )
    is_cadre = Cadre.objects.filter(user=request.user).exists()
    return render(
        request,
        "immersion/list.html",
        {"page_title": "Immersion professionnelle", "immersions": immersions, "is_cadre": is_cadre},
    )


def _window(cadre):
    """The agent's days in the current 3-year window, and the days left."""
    used = sorted(rules.days_in_window(services.other_days(cadre), timezone.localdate()))
    return {
        "jours_utilises": used,
        "jours_restants": max(rules.PLAFOND_JOURS - len(used), 0),
        "plafond": rules.PLAFOND_JOURS,
    }


@login_required
def immersion_new(request):
    cadre = get_object_or_404(Cadre.objects.select_related("structure"), user=request.user)
    initial = {}
    if request.method != "POST":
        delegue = next(iter(delegues_for(cadre.structure)), None)
        if delegue is not None:
            initial = {
                "employeur_representant_nom": delegue.get_full_name() or delegue.email,
                "employeur_representant_email": delegue.email,
            }
    form = ImmersionRequestForm(
        request.POST or None, initial=initial, action=reverse("immersion:new")
    )
    if request.method == "POST" and form.is_valid():
        try:
            immersion = services.submit(
                cadre, form.cleaned_data["jours"], by=request.user, **form.request_data()
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Votre demande d'immersion est transmise à votre délégué à l'encadrement "
                "supérieur, qui vous répondra dans un délai d'un mois.",
            )
            return redirect(immersion)
    return render(
        request,
        "immersion/form.html",
        {"page_title": "Demander une immersion", "form": form, "cadre": cadre, **_window(cadre)},
    )


def _feedback_open(immersion, days):
    return (
        immersion.statut in (Immersion.Statut.SIGNEE, Immersion.Statut.TERMINEE)
        and bool(days)
        and days[-1] <= timezone.localdate()
    )


def _detail_context(immersion, feedback_form=None):
    jours = list(immersion.jours.all())
    days = [jour.date for jour in jours]
    convention = services.current_convention_light(immersion)
    signatures = list(convention.signatures.all()) if convention else []
    pending = [s for s in signatures if not s.signe_le]
    own = next((s for s in pending if s.partie == Signature.Partie.AGENT), None)
    retour = immersion.retours.filter(auteur=Retour.Auteur.AGENT).first()
    gate = services.gate_to_show(immersion, convention)
    context = {
        "page_title": f"Immersion – {immersion.structure_accueil}",
        "immersion": immersion,
        "jours": days,
        "jours_immersion": jours,
        "echeance": rules.decision_deadline(immersion.recue_le),
        "convention": convention,
        "parties": convention.parties() if convention else [],
        "signatures": signatures,
        "pending": pending,
        "gate": gate,
        # Offered from the first day once the gate is open; the service decides.
        "can_start": (
            gate is None
            and immersion.statut == Immersion.Statut.SIGNEE
            and not immersion.commencee_le
            and bool(days)
            and days[0] <= timezone.localdate()
        ),
        "sign_url": (
            reverse("immersion_public:signer", args=[services.signature_token(own)])
            if own is not None
            else None
        ),
        "retour": retour,
    }
    if retour is None and _feedback_open(immersion, days):
        context["feedback_form"] = feedback_form or FeedbackForm(
            immersion=immersion, action=reverse("immersion:feedback", args=[immersion.pk])
        )
    return context


@login_required
def immersion_detail(request, pk):
    immersion = get_object_or_404(_mine(request.user), pk=pk)
    return render(request, "immersion/detail.html", _detail_context(immersion))


@login_required
@require_POST
def start(request, pk):
    """The agent marks the immersion started: refused, with who has not signed (or
    the missing ordre de mission), until the gate is open."""
    immersion = get_object_or_404(_mine(request.user), pk=pk)
    try:
        services.start(immersion)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Le début de votre immersion est enregistré. Bonne immersion !")
    return redirect(immersion)


@login_required
def convention_pdf(request, pk):
    """The current version of the convention, for the agent only."""
    immersion = get_object_or_404(_mine(request.user), pk=pk)
    convention = get_object_or_404(
        Convention.objects.filter(immersion=immersion, annulee_le__isnull=True).order_by(
            "-version"
        )[:1]
    )
    response = HttpResponse(bytes(convention.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="convention-immersion-{immersion.pk}-v{convention.version}.pdf"'
    )
    return response


@login_required
@require_POST
def feedback(request, pk):
    """The agent's feedback after the last day."""
    immersion = get_object_or_404(_mine(request.user), pk=pk)
    form = FeedbackForm(
        request.POST,
        immersion=immersion,
        action=reverse("immersion:feedback", args=[immersion.pk]),
    )
    if form.is_valid():
        try:
            services.record_feedback(immersion, Retour.Auteur.AGENT, **form.feedback_data())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Merci : votre retour sur l'immersion est enregistré.")
            return redirect(immersion)
    context = _detail_context(immersion, feedback_form=form)
    if "feedback_form" not in context:
        messages.error(request, "Le retour se fait après le dernier jour de l'immersion.")
        return redirect(immersion)
    return render(request, "immersion/detail.html", context, status=200)


def tutor_feedback(request, token):
    """The tutor's feedback, by the link received after the last day (no account)."""
    immersion = services.immersion_from_feedback_token(token)
    if immersion is None:
        raise Http404("Ce lien de retour n'est pas valide ou a expiré.")
    immersion = Immersion.objects.select_related("cadre").get(pk=immersion.pk)
    context = {"page_title": "Retour sur une période d'immersion", "immersion": immersion}
    if immersion.retours.filter(auteur=Retour.Auteur.TUTEUR).exists():
        return render(request, "immersion/retour_merci.html", {**context, "deja": True})
    form = FeedbackForm(request.POST or None, immersion=immersion)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_feedback(immersion, Retour.Auteur.TUTEUR, **form.feedback_data())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return render(request, "immersion/retour_merci.html", context)
    return render(request, "immersion/retour.html", {**context, "form": form})


def _link_refused(request, state):
    """Why a link no longer opens anything, without a word of the convention: 404
    for a link that is not ours, 410 for one we sent that expired or was replaced."""
    invalid = state == services.Lien.INVALIDE
    return render(
        request,
        "immersion/sign_invalid.html",
        {
            "page_title": (
                "Lien de signature invalide" if invalid else "Lien de signature expiré ou remplacé"
            ),
            "etat": state.value,
        },
        status=404 if invalid else 410,
    )


JUST_SIGNED = "signee"


@never_cache
@csrf_protect
def sign(request, token):
    """A signatory's personal link (no account): read the convention, download the PDF,
    sign it. Forged links answer 404, expired, renewed or voided ones 410 with the
    reason; a used one says so."""
    signature, state = services.resolve_signature_token(token)
    if signature is None:
        return _link_refused(request, state)
    convention = signature.convention
    immersion = convention.immersion
    context = {
        "page_title": "Signature de la convention d'immersion",
        "signature": signature,
        "convention": convention,
        "immersion": immersion,
    }
    if signature.signe_le:
        # Just signed (the redirect below: reloading it posts nothing again), or later.
        deja = request.method == "POST" or JUST_SIGNED not in request.GET
        return render(request, "immersion/sign_done.html", {**context, "deja": deja})
    form = SignatureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign(
                signature, form.cleaned_data["nom"], request.META.get("REMOTE_ADDR") or None
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return redirect(f"{request.path}?{JUST_SIGNED}")
    others = Signature.objects.filter(convention=convention).exclude(pk=signature.pk).order_by("pk")
    return render(
        request,
        "immersion/sign.html",
        {
            **context,
            "form": form,
            "jours": sorted(immersion.dates),
            "autres": others,
            "pdf_url": reverse("immersion_public:signer_pdf", args=[token]),
        },
    )


@never_cache
def signed_pdf(request, token):
    """The exact stored bytes of the version this link is for (its SHA-256 is shown)."""
    signature, state = services.resolve_signature_token(token)
    if signature is None:
        return _link_refused(request, state)
    convention = Convention.objects.only("pdf", "version").get(pk=signature.convention_id)
    response = HttpResponse(bytes(convention.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="convention-v{convention.version}.pdf"'
    return response


class SignatureForm(PortalFormMixin, forms.Form):
    submit_label = "Signer la convention"

    nom = forms.CharField(
        label="Vos prénom et nom",
        max_length=150,
        help_text="Tels qu'ils figureront sur la signature.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    accepte = forms.BooleanField(
        label="J'ai lu la convention et je la signe",
        required=True,
        error_messages={"required": "Cochez la case pour confirmer que vous signez la convention."},
    )
