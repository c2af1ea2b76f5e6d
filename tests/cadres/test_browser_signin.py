"""Main sign-in journeys in a real browser: a délégué reaches the admin through TOTP
and sees their perimeter; a cadre reaches their profile."""

import pytest

from tests.factories import PASSWORD, totp_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def sign_in(page, email):
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()


def test_delegue_signs_in_with_totp_and_sees_only_their_perimeter(page, two_ministries):
    m = two_ministries
    delegue = m["delegue_a"]
    page.goto("/admin/")
    assert "/compte/login/" in page.url
    sign_in(page, delegue.email)
    page.wait_for_url("**/compte/2fa/authenticate/**")
    page.fill("input[name=code]", "000000")
    page.locator("form button[type=submit]").first.click()
    assert page.locator(".fr-error-text, .fr-alert--error").first.is_visible()
    page.fill("input[name=code]", totp_code(delegue))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Cadres", exact=True).first.click()
    page.wait_for_url("**/admin/cadres/cadre/")
    table = page.locator("#result_list")
    assert table.locator("tbody tr").count() == 1  # one cadre in the perimeter
    assert table.get_by_text("ALPHA").count() >= 1  # (also in the file link's name)
    assert table.get_by_text("BRAVO").count() == 0


def test_cadre_signs_in_and_sees_their_profile(page):
    from tests.factories import make_cadre_user

    cadre = make_cadre_user(nom="Lambert", prenom="Agnès", fonction="Cheffe de service")
    page.goto("/espace/")
    sign_in(page, cadre.email)
    page.wait_for_url("**/espace/")
    assert page.get_by_role("heading", name="Mon profil").is_visible()
    assert page.get_by_text("Cheffe de service").is_visible()
    page.get_by_role("link", name="Se déconnecter").click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/compte/login/**")
