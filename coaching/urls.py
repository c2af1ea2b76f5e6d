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
]
