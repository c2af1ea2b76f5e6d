from django.urls import path

from . import views

urlpatterns = [
    path(
        "invitation/<str:uidb64>/<str:token>/",
        views.accept_invitation,
        name="invitation_accept",
    ),
]
