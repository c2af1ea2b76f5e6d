from django.urls import path

from . import views

app_name = "immersion"

urlpatterns = [
    path("", views.immersion_list, name="list"),
    path("nouvelle/", views.immersion_new, name="new"),
    path("<int:pk>/", views.immersion_detail, name="detail"),
    path("<int:pk>/convention.pdf", views.convention_pdf, name="convention_pdf"),
    path("<int:pk>/retour/", views.feedback, name="feedback"),
    path("<int:pk>/commencer/", views.start, name="start"),
]

# Links for people without an account (signatories, tutor): mounted at /immersion/.
public_urlpatterns = [
    path("signer/<str:token>/", views.sign, name="signer"),
    path("signer/<str:token>/pdf/", views.signed_pdf, name="signer_pdf"),
    path("retour/<str:token>/", views.tutor_feedback, name="retour"),
]
