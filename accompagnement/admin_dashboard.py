"""The dashboard page of the admin (``/admin/tableau-de-bord/``): the délégué's
landing page. Figures come from ``dashboard``; this is the page around them."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from . import dashboard

MAX_YEARS = 5


class PeriodForm(forms.Form):
    date_debut = forms.DateField(
        label="Du", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_fin = forms.DateField(
        label="Au", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_debut"), data.get("date_fin")
        if start and end:
            if end < start:
                raise forms.ValidationError("La fin de la période précède son début.")
            if (end - start).days > MAX_YEARS * 366:
                raise forms.ValidationError(f"Choisissez une période de {MAX_YEARS} ans au plus.")
        return data


def dashboard_view(request):
    start, end = dashboard.default_period()
    form = PeriodForm(request.GET or None, initial={"date_debut": start, "date_fin": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["date_debut"], form.cleaned_data["date_fin"]
    scope = dashboard.Scope(request.user, start, end)
    sections = dashboard.sections(scope)
    for i, section in enumerate(sections, 1):
        for j, chart in enumerate(section.charts, 1):
            chart.dom_id = f"{i}-{j}"
    context = {
        **admin.site.each_context(request),
        "title": "Tableau de bord",
        "form": form,
        "start": start,
        "end": end,
        "sections": sections,
    }
    return TemplateResponse(request, "admin/accompagnement/dashboard.html", context)
