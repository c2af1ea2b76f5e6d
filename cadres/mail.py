"""Project mails: French, plain text and HTML, rendered from templates."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


def render_plain(template_name, context):
    """Render a text template without HTML escaping (subjects, text bodies)."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


def build_mail(template, context, to, connection=None):
    """``template`` names a pair ``<template>.txt`` / ``<template>.html`` and a
    ``<template>_subject.txt``."""
    context = {"product_name": settings.PRODUCT_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_plain(f"{template}_subject.txt", context).split())
    text = render_plain(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=f"[{settings.PRODUCT_NAME}] {subject}",
        body=text,
        to=to if isinstance(to, list | tuple) else [to],
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
