"""The live server answers in a real browser, in Dutch."""

from playwright.sync_api import Page, expect


def test_it_serves_the_login_page_in_dutch(live_app, page: Page) -> None:
    response = page.goto(f"{live_app.url}/inloggen/")

    assert response is not None
    assert response.ok, response.status
    expect(page.locator("html")).to_have_attribute("lang", "nl")
