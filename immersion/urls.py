from django.urls import path

from . import views

app_name = "immersion"

urlpatterns = [
    path("", views.immersion_list, name="list"),
    path("<int:pk>/", views.immersion_detail, name="detail"),
]

# Links for people without an account (signatories, tutor): mounted at /immersion/.
public_urlpatterns = [
    path("signer/<str:token>/", views.sign, name="signer"),
]
