from django.urls import path

from . import views

app_name = "codev"

urlpatterns = [
    path("", views.groupe_list, name="groupes"),
    path("groupes/nouveau/", views.groupe_create, name="groupe_create"),
    path("groupes/<int:pk>/", views.groupe_detail, name="groupe"),
    path("groupes/<int:pk>/modifier/", views.groupe_edit, name="groupe_edit"),
    path("groupes/<int:pk>/membres/", views.membre_add, name="membre_add"),
    path("groupes/<int:pk>/cycle/", views.cycle_generate, name="cycle_generate"),
    path("membres/<int:pk>/retirer/", views.membre_remove, name="membre_remove"),
    path("seances/<int:pk>/", views.seance_runner, name="seance"),
    path("seances/<int:pk>/client/", views.seance_client, name="seance_client"),
    path("seances/<int:pk>/date/", views.seance_reschedule, name="seance_reschedule"),
    path("seances/<int:pk>/phase/", views.seance_phase, name="seance_phase"),
    path("seances/<int:pk>/pause/", views.seance_pause, name="seance_pause"),
    path("seances/<int:pk>/presences/", views.seance_presences, name="seance_presences"),
    path("seances/<int:pk>/probleme/", views.seance_probleme, name="seance_probleme"),
    path("seances/<int:pk>/contrat/", views.seance_contrat, name="seance_contrat"),
    path("seances/<int:pk>/plan/", views.seance_plan, name="seance_plan"),
    path("seances/<int:pk>/suivi/", views.seance_suivi, name="seance_suivi"),
    path(
        "seances/<int:pk>/apprentissages/",
        views.seance_apprentissages,
        name="seance_apprentissages",
    ),
    path("seances/<int:pk>/regulation/", views.seance_regulation, name="seance_regulation"),
    path("seances/<int:pk>/evaluation/", views.seance_evaluation, name="seance_evaluation"),
]
