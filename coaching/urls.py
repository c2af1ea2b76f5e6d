from django.urls import path

from . import views

app_name = "coaching"

urlpatterns = [
    path("", views.coaching_list, name="list"),
    path("<int:pk>/", views.coaching_detail, name="detail"),
]
