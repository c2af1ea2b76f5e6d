from django.urls import path

from . import views

app_name = "parcours"

urlpatterns = [
    path("", views.mon_dossier, name="mon_dossier"),
    path("documents/<int:pk>/", views.document, name="document"),
]
