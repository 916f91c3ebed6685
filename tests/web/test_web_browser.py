"""The pages in a real Chromium (Debian's /usr/bin/chromium through Playwright) against the app
served by uvicorn on 127.0.0.1. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx2 as httpx
import pytest
from pagetools import number

pytestmark = pytest.mark.browser


def api_get(live_server: str, key: str, path: str) -> httpx.Response:
    return httpx.get(live_server + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def sign_in(page, key: str, start: str = "/web/") -> None:
    page.goto(start)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_producer_signs_in_opens_a_statement_and_sees_the_api_numbers(
    page, live_server, web_db, screenshot
):
    key = web_db.keys["alpha"]
    sign_in(page, key)
    assert page.url.endswith("/web/statements")
    assert page.get_by_role("heading", level=1).inner_text() == "My monthly statements"
    screenshot(page, "producer-statements")
    sid = web_db.statements[("Alpha", "2022-01", 1)]
    page.get_by_role("link", name=f"Statement {sid}", exact=True).click()
    page.wait_for_url(f"**/web/statements/{sid}")
    api = api_get(live_server, key, f"/api/statements/{sid}").json()
    (line,) = api["lines"]
    row = page.locator("#lines-table tbody tr#line-1")
    for field in ("reference_price", "rate", "amount"):
        shown = row.locator(f'td[data-field="{field}"]').inner_text()
        assert number(shown) == Decimal(line[field]), field
    for field in ("eligible_kwh", "excluded_kwh"):
        assert number(row.locator(f'td[data-field="{field}"]').inner_text()) == line[field]
    assert number(page.locator("#net").inner_text()) == Decimal(api["net"]) == Decimal("15190.00")
    assert number(page.locator("#paid-to-producer").inner_text()) == Decimal(
        api["paid_to_producer"]
    )
    # Right-aligned by the served style sheet, with tabular figures.
    amount = row.locator('td[data-field="amount"]')
    assert amount.evaluate("e => getComputedStyle(e).textAlign") == "right"
    assert "tabular-nums" in amount.evaluate("e => getComputedStyle(e).fontVariantNumeric")
    screenshot(page, "producer-statement")


def test_the_csv_download_in_the_browser_is_the_api_csv(page, live_server, web_db, screenshot):
    key = web_db.keys["alpha"]
    sid = web_db.statements[("Alpha", "2022-01", 3)]
    sign_in(page, key, f"/web/statements/{sid}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = download.value.path()
    assert path is not None
    with open(path, "rb") as fh:
        content = fh.read()
    assert content == api_get(live_server, key, f"/api/statements/{sid}/csv").content
    screenshot(page, "producer-adjustment-statement")


def test_producer_b_cannot_open_producer_a_statement_page(page, web_db, screenshot):
    sid = web_db.statements[("Alpha", "2022-01", 1)]
    sign_in(page, web_db.keys["beta"])
    response = page.goto(f"/web/statements/{sid}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert "15,190" not in page.content() and "Alpha" not in page.locator("main").inner_text()
    screenshot(page, "producer-b-denied")
    response = page.goto("/web/uploads")
    assert response is not None and response.status == 403


def test_keyboard_only_sign_in_and_skip_link(page, web_db):
    page.goto("/web/sign-in")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    assert page.locator(".skip-link").evaluate("e => e.getBoundingClientRect().top") >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "api_key"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.keyboard.type(web_db.keys["operator"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/web/rounds")
    assert page.get_by_role("link", name="W-2022").is_visible()


def test_operator_pages_show_the_round_analysis_and_runs(page, web_db, screenshot):
    sign_in(page, web_db.keys["operator"])
    screenshot(page, "operator-rounds")
    page.get_by_role("link", name="W-2022").click()
    page.wait_for_url("**/web/rounds/W-2022")
    chart = page.get_by_role("img", name=re.compile("Budget curve"))
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("#rejected-table tbody tr").count() == 2
    screenshot(page, "operator-round")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settlement runs").click()
    page.wait_for_url("**/web/settlements")
    assert page.locator("#runs-table tbody tr").count() == len(web_db.runs)
    screenshot(page, "operator-settlement-runs")


def test_treasury_page_draws_the_fan_chart(page, web_db, screenshot):
    sign_in(page, web_db.keys["treasury"])
    assert page.url.endswith("/web/treasury")
    fan = page.get_by_role("img", name=re.compile("Forecast of monthly net support cost"))
    box = fan.bounding_box()
    assert box is not None and box["width"] > 300
    band = page.locator("#fan-chart polygon.band").bounding_box()
    assert band is not None and band["height"] > 5
    screenshot(page, "treasury-forecast")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/web/sign-in")
    response = page.goto("/web/treasury")
    assert response is not None and page.url.endswith("/web/sign-in?next=/web/treasury")
