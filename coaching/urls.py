from django.urls import path

from . import views

app_name = "coaching"

urlpatterns = [
    path("", views.coaching_list, name="list"),
    path("<int:pk>/", views.coaching_detail, name="detail"),
    path("<int:pk>/seances/nouvelle/", views.schedule, name="schedule"),
    path("<int:pk>/notes/", views.note_add, name="note_add"),
    path("seances/<int:pk>/statut/", views.seance_statut, name="seance_statut"),
    path("seances/<int:pk>/report/", views.seance_report, name="seance_report"),
    path("<int:pk>/preselection/", views.preselection, name="preselection"),
    path("<int:pk>/preselection/choix/", views.preselection_choisir, name="preselection_choisir"),
    path("<int:pk>/preselection/autre/", views.preselection_autre, name="preselection_autre"),
    path(
        "propositions/<int:pk>/entretien/",
        views.entretien_reserver,
        name="entretien_reserver",
    ),
    path("entretiens/<int:pk>/", views.entretien, name="entretien"),
    path("entretiens/<int:pk>/annuler/", views.entretien_annuler, name="entretien_annuler"),
]
