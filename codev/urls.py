from django.urls import path

from . import views

app_name = "codev"

urlpatterns = [
    path("", views.groupe_list, name="groupes"),
    path("groupes/<int:pk>/", views.groupe_detail, name="groupe"),
    path("seances/<int:pk>/", views.seance_runner, name="seance"),
]
