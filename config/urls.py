from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accompagnement.admin_dashboard import dashboard_view
from accompagnement.views import calendar_feed
from immersion.urls import public_urlpatterns
from rgpd import views as rgpd_views

from . import accessibility, views

# The admin signs in through allauth, so that MFA applies there too.
admin.site.login = views.admin_login
admin.site.site_header = f"{settings.PRODUCT_NAME} — administration"
admin.site.site_title = settings.PRODUCT_NAME
admin.site.index_title = "Gestion des dispositifs d'accompagnement"

pages = (
    [
        path(
            "accessibilite/",
            views.page(
                "pages/accessibilite.html",
                "Déclaration d'accessibilité",
                audited_pages=accessibility.AUDITED_PAGES,
                known_limits=accessibility.KNOWN_LIMITS,
                audit_date=accessibility.AUDIT_DATE,
            ),
            name="accessibilite",
        ),
        path(
            "mentions-legales/",
            views.page("pages/mentions_legales.html", "Mentions légales"),
            name="mentions_legales",
        ),
        path(
            "donnees-personnelles/",
            rgpd_views.mentions,
            name="donnees_personnelles",
        ),
    ],
    "pages",
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home", permanent=False)),
    path(
        "admin/tableau-de-bord/",
        admin.site.admin_view(dashboard_view),
        name="admin_dashboard",
    ),
    path("admin/import/", include("cadres.admin_import")),
    path("admin/", admin.site.urls),
    path("compte/", include("allauth.urls")),
    path("", include("cadres.urls")),
    path("espace/coaching/", include("coaching.urls")),
    path("codev/", include("codev.urls")),
    path("espace/immersion/", include("immersion.urls")),
    path("espace/mentorat/", include("mentorat.urls")),
    path("immersion/", include((public_urlpatterns, "immersion_public"))),
    path("espace/mes-donnees/", include("rgpd.urls")),
    path("espace/mon-dossier/", include("parcours.urls")),
    path("espace/cohortes/", include("cohortes.urls")),
    path("espace/", include("accompagnement.urls")),
    path("calendrier/<str:token>.ics", calendar_feed, name="calendar_feed"),
    path("", include(pages)),
    path("sante/", views.health, name="health"),
]
