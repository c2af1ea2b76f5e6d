"""Issue 15: the accessibility statement, linked from every page's footer with its
conformity mention, lists the audited pages and the known limits."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from config import accessibility

pytestmark = pytest.mark.django_db


def test_the_footer_links_to_the_statement_with_the_conformity_mention(client):
    content = client.get(reverse("account_login")).content.decode()

    link = f'<a class="fr-footer__bottom-link" href="{reverse("pages:accessibilite")}">'
    assert f"{link}Accessibilité : partiellement conforme</a>" in content


def test_the_statement_lists_the_audited_pages_and_the_known_limits(
    client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(0):
        response = client.get(reverse("pages:accessibilite"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<strong>partiellement conforme</strong>" in content
    assert "RGAA" in content and "axe-core" in content and "Défenseur des droits" in content
    labels = [label for _, pages in accessibility.AUDITED_PAGES for _, label in pages]
    assert len(labels) > 40
    for text in [*labels, *accessibility.KNOWN_LIMITS]:
        assert f"<li>{escape(text)}</li>" in content


def test_audited_pages_are_named_once():
    names = [name for _, pages in accessibility.AUDITED_PAGES for name, _ in pages]
    assert len(names) == len(set(names))
