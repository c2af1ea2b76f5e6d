from django.urls import path

from . import views

app_name = "rgpd"

urlpatterns = [
    path("", views.my_data, name="mes_donnees"),
    path("export.json", views.my_data_json, name="export_json"),
    path("synthese.pdf", views.my_data_pdf, name="export_pdf"),
]
