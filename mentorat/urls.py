from django.urls import path

from . import views

app_name = "mentorat"

urlpatterns = [
    path("", views.mentorat_list, name="list"),
    path("souhaits/", views.besoins, name="besoins"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/accepter/", views.accept, name="accept"),
    path("<int:pk>/decliner/", views.decline, name="decline"),
    path("<int:pk>/rencontres/", views.meeting, name="meeting"),
    path("rencontres/<int:pk>/statut/", views.meeting_status, name="meeting_status"),
    path("rencontres/<int:pk>/note/", views.note, name="note"),
    path("points-etape/<int:pk>/", views.point_etape, name="point_etape"),
    path("activite.pdf", views.activite_export, {"fmt": "pdf"}, name="activite_pdf"),
    path("activite.csv", views.activite_export, {"fmt": "csv"}, name="activite_csv"),
]
