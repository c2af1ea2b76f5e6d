from django.conf import settings

from . import accessibility


def site(request):
    """What the DSFR base template reads, from settings rather than the database."""
    return {
        "SITE_CONFIG": {
            "site_title": settings.PRODUCT_NAME,
            "site_tagline": (
                "Coaching, mentorat, codéveloppement et immersion des cadres supérieurs"
            ),
            "footer_description": "",
            "accessibility_status": accessibility.STATUS,
        },
        "product_name": settings.PRODUCT_NAME,
    }
