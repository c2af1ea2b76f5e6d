from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("demandes/", views.demande_list, name="demande_list"),
    path("demandes/nouvelle/", views.demande_create, name="demande_create"),
    path("demandes/<int:pk>/", views.demande_detail, name="demande_detail"),
    path("evaluations/<int:pk>/", views.evaluation, name="evaluation"),
    path("agenda/", views.agenda, name="agenda"),
    path("agenda/nouvelle-adresse/", views.agenda_revoke, name="agenda_revoke"),
]
