"""Every user's job end to end in Chromium, through the forms only, on a database of its own:
the operator (in Georgian) creates, opens, closes, clears and awards a round; two producers
bid (one with the keyboard only) and keep their receipts; both find them in the published
results; the operator uploads prices and meter data and settles a month; a producer opens its
statement; treasury runs a forecast and downloads a file; an admin creates and revokes a key.

Amounts are worked by hand (see `test_the_whole_year_of_work_in_the_browser`); downloads are
compared byte for byte with the JSON API.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2 as httpx
import pandas as pd
import pytest
from conftest import blank, serve
from pagetools import axe_violations, horizontal_overflow, number

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    env = blank(tmp_path_factory.mktemp("flow") / "flow.sqlite")
    with serve(env.app) as url:
        env.url = url
        yield env
    env.engine.dispose()


def person(browser: Any, flow: SimpleNamespace, key: str | None, language: str = "en") -> Any:
    """A browser context of its own (its own cookies), signed in with `key` when given."""
    context = browser.new_context(
        base_url=flow.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"/web/sign-in?lang={language}")
    if key is not None:
        page.fill("#api_key", key)
        page.locator("form.sign-in button").click()
        page.wait_for_load_state()
    return page


def submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()


def meters_csv() -> bytes:
    """January 2024: Alpha's solar 1 000 kWh in each hour 08–17, Beta's wind 2 000 kWh always."""
    lines = ["timestamp,contract_id,energy_kwh"]
    start = pd.Timestamp("2024-01-01", tz="Asia/Tbilisi")
    for hour in pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="h", inclusive="left"):
        lines.append(f"{hour.isoformat()},E-2024-s1,{1000 if 8 <= hour.hour < 18 else 0}")
        lines.append(f"{hour.isoformat()},E-2024-w1,2000")
    return ("\n".join(lines) + "\n").encode()


def bid_by_keyboard(page: Any, values: list[str]) -> list[str]:
    """Fills the bid form with the keyboard only; returns the ids focused, in order."""
    page.locator("#bid_id").focus()
    page.keyboard.press("Shift+Tab")  # start just before the form, as a keyboard user would
    focused = []
    for value in values:
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
        if value == "select":
            continue  # keep the first technology offered (solar)
        if value == "ArrowDown":
            page.keyboard.press(value)  # the next technology offered
            continue
        page.keyboard.type(value)
    return focused


def test_the_whole_year_of_work_in_the_browser(browser, flow, screenshot):
    keys = flow.keys
    # --- the operator, in Georgian, creates and opens the round ------------------------------
    operator = person(browser, flow, keys["operator"], "ka")
    operator.goto("/web/rounds/new")
    assert operator.locator("html").get_attribute("lang") == "ka"
    operator.fill("#round_id", "E-2024")
    operator.fill("#name", "Browser round 2024")
    operator.fill("#budget", "3000000")
    operator.fill("#reference_price", "100")
    operator.fill("#technology-0", "solar")
    operator.fill("#ceiling-0", "200")
    operator.fill("#technology-1", "wind")
    assert axe_violations(operator) == []
    screenshot(operator, "flow-ka-operator-new-round")
    submit(operator, "form[action='/web/rounds']")
    assert operator.url.endswith("/web/rounds/E-2024?done=created")
    assert "3\u00a0000\u00a0000,00 GEL" in operator.locator("#round-rules").inner_text()
    submit(operator, "form[action$='/open']")
    assert operator.locator("#done").is_visible()

    # --- two producers bid; Alpha with the keyboard only --------------------------------------
    alpha = person(browser, flow, keys["alpha"])
    alpha.goto("/web/rounds")
    alpha.get_by_role("link", name="E-2024").click()
    alpha.wait_for_url("**/web/rounds/E-2024")
    rules = alpha.locator("#round-rules").inner_text()
    assert "3,000,000.00 GEL" in rules and "(p − reference price)" in rules
    focused = bid_by_keyboard(alpha, ["s1", "select", "10", "15000", "150.50"])
    assert focused == ["bid_id", "technology", "capacity_mw", "annual_mwh", "price"]
    screenshot(alpha, "flow-en-alpha-bid-form")
    with alpha.expect_navigation():
        alpha.keyboard.press("Enter")  # submits the form from the price field
    receipts = {"Alpha": alpha.locator("#receipt").inner_text()}
    canonical = alpha.locator("#canonical-bid").inner_text()
    salt = bytes.fromhex(alpha.locator("#salt").inner_text())
    assert receipts["Alpha"] == hmac.new(salt, canonical.encode(), hashlib.sha256).hexdigest()
    with alpha.expect_download() as download:
        alpha.get_by_role("button", name="Download the receipt").click()
    kept = Path(download.value.path()).read_text()
    assert receipts["Alpha"] in kept and canonical in kept
    screenshot(alpha, "flow-en-alpha-receipt")

    beta = person(browser, flow, keys["beta"], "ka")
    beta.goto("/web/rounds/E-2024")
    # Typed as Georgian writes numbers: a decimal comma.
    focused = bid_by_keyboard(beta, ["w1", "ArrowDown", "20", "50000", "140,00"])
    assert focused == ["bid_id", "technology", "capacity_mw", "annual_mwh", "price"]
    assert beta.locator("#technology").input_value() == "wind"
    with beta.expect_navigation():
        beta.keyboard.press("Enter")
    assert axe_violations(beta) == []
    assert '"price":"140"' in beta.locator("#canonical-bid").inner_text()
    receipts["Beta"] = beta.locator("#receipt").inner_text()

    # --- the operator closes, clears (certified status shown) and awards ----------------------
    operator.reload()
    submit(operator, "form[action$='/close']")
    opened = operator.locator("#bids-table tbody th").all_inner_texts()
    assert sorted(opened) == ["s1", "w1"]
    submit(operator, "form[action$='/clear']")
    status = operator.locator("#solver-status").inner_text()
    assert "დადასტურებულად ოპტიმალური" in status and "დამოწმებულია: cp-sat, highs" in status
    screenshot(operator, "flow-ka-operator-cleared")
    operator.fill("#start", "2024-01-01")
    submit(operator, "form[action$='/award']")
    assert "E-2024-s1" in operator.locator("#awarded-table").inner_text()

    # --- everyone, no key: the published results carry both receipts ------------------------
    public = person(browser, flow, None)
    public.goto("/web/results")
    public.get_by_role("link", name="Browser round 2024 (E-2024)").click()
    public.wait_for_url("**/web/results/E-2024")
    shown = public.locator("#results-table code.receipt").all_inner_texts()
    assert sorted(shown) == sorted(receipts.values())
    screenshot(public, "flow-en-public-results")
    beta.goto("/web/results/E-2024")
    assert receipts["Beta"] in beta.locator("tr.own").inner_text()

    # --- the operator uploads prices and meter data and settles January -----------------------
    operator.goto("/web/uploads")
    wrong = meters_csv().replace(b"E-2024-w1,2000\n", b"E-2024-w1,-2000\n", 1)
    operator.set_input_files(
        "#meters-file", {"name": "meters.csv", "mimeType": "text/csv", "buffer": wrong}
    )
    submit(operator, "form[action$='/uploads/meter-data']")
    problems = operator.locator("#problems-table tbody tr")
    assert problems.count() == 1  # row 2 (Beta's first hour), field energy_kwh
    assert problems.first.locator("td").nth(1).inner_text() == "2"
    assert problems.first.locator("td").nth(2).inner_text() == "energy_kwh"
    assert axe_violations(operator) == []
    screenshot(operator, "flow-ka-operator-upload-problems")
    operator.goto("/web/uploads")
    assert operator.locator("#uploads-table").count() == 0  # nothing was stored
    operator.set_input_files(
        "#prices-file",
        {"name": "prices.csv", "mimeType": "text/csv", "buffer": b"month,price\n2024-01,101.50\n"},
    )
    submit(operator, "form[action$='/uploads/prices']")
    assert operator.locator("#done").is_visible()
    operator.set_input_files(
        "#meters-file", {"name": "meters.csv", "mimeType": "text/csv", "buffer": meters_csv()}
    )
    submit(operator, "form[action$='/uploads/meter-data']")
    assert "1\u00a0488" in operator.locator("#done").inner_text()
    operator.goto("/web/settlements")
    operator.fill("#month", "2024-01")
    submit(operator, "#settle-form")
    # Alpha: 31 × 10 h × 1 MWh × (150.50 − 101.50) = 15 190.00;
    # Beta: 744 h × 2 MWh × (140.00 − 101.50) = 57 288.00; together 72 478.00.
    run = operator.locator("#runs-table tbody tr").first
    assert run.locator('td[data-field="net"]').inner_text() == "72\u00a0478,00 GEL"
    screenshot(operator, "flow-ka-operator-settled")

    # --- Alpha opens its statement -------------------------------------------------------------
    alpha.goto("/web/statements")
    alpha.locator("#statements-table a").first.click()
    alpha.wait_for_url("**/web/statements/*")
    assert number(alpha.locator("#net").inner_text()) == Decimal("15190.00")
    screenshot(alpha, "flow-en-alpha-statement")

    # --- treasury runs a forecast and downloads a file -----------------------------------------
    treasury = person(browser, flow, keys["treasury"])
    treasury.fill("#as_of", "2024-01-15")
    treasury.fill("#start_month", "2024-01")
    treasury.fill("#months", "6")
    treasury.fill("#scenarios", "20")
    treasury.fill("#auction_budget", "600000")
    submit(treasury, "#forecast-form")
    treasury.locator("#forecast-files a").first.wait_for(timeout=90_000)
    settings = treasury.locator("#forecast-settings").inner_text()
    assert "20" in settings and "2024-01-15" in settings
    job_id = treasury.url.rsplit("/", 1)[-1]
    link = treasury.locator("#forecast-files a").first
    name = link.get_attribute("href").rsplit("/", 1)[-1]
    with treasury.expect_download() as download:
        link.click()
    body = Path(download.value.path()).read_bytes()
    api = httpx.get(
        f"{flow.url}/api/forecasts/{job_id}/files/{name}",
        headers={"Authorization": f"Bearer {keys['treasury']}"},
        timeout=30,
    )
    assert body and body == api.content
    screenshot(treasury, "flow-en-treasury-forecast")

    # --- an admin creates a producer key, which works until it is revoked ---------------------
    admin = person(browser, flow, keys["admin"])
    admin.goto("/web/keys")
    admin.select_option("#role", "producer")
    admin.fill("#producer", "Gamma")
    submit(admin, "#key-form")
    secret = admin.locator("#secret").inner_text()
    gamma = person(browser, flow, secret)
    assert gamma.url.endswith("/web/statements")
    key_id = secret.split("_")[1]
    admin.goto("/web/keys")
    submit(admin, f"form[action='/web/keys/{key_id}/revoke']")
    assert key_id in admin.locator("#done").inner_text()
    gamma.goto("/web/rounds")
    assert "/web/sign-in" in gamma.url
    refused = httpx.get(
        f"{flow.url}/api/me", headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )
    assert refused.status_code == 401
    screenshot(admin, "flow-en-admin-keys")
    for page in (operator, alpha, beta, public, treasury, admin, gamma):
        page.context.close()


# Pages of the seeded database (every kind of page with data), by the role that sees them.
# All are checked in both languages for width; axe-core reads each in Georgian and the first
# three in English too (the markup is the same, only the words differ).
A11Y_PAGES = (
    ("operator", "/web/rounds/W-2022"),
    ("alpha", "/web/statements"),
    ("treasury", "/web/treasury"),
    (None, "/web/results/W-2022"),
    ("operator", "/web/uploads"),
    ("operator", "/web/settlements"),
    ("operator", "/web/audit"),
    ("alpha", "/web/rounds/W-2023"),
    ("alpha", "/web/contracts/W-2022-a1"),
    ("admin", "/web/keys"),
    ("alpha", "/web/guarantees"),
    ("operator", "/web/rounds/new"),
    (None, "/web/sign-in"),
)
AXE_IN_BOTH = 3


def test_no_page_scrolls_sideways_on_a_phone_and_axe_finds_nothing(
    browser, live_server, web_db, screenshot
):
    pages: dict[tuple[str | None, str], Any] = {}
    for language in ("ka", "en"):
        for index, (who, path) in enumerate(A11Y_PAGES):
            if (who, language) not in pages:
                # Signed in by the session cookie itself (the sign-in form has its own tests).
                context = browser.new_context(base_url=live_server, viewport=PHONE)
                cookies = [{"name": "mzk_lang", "value": language, "url": live_server + "/web/"}]
                if who is not None:
                    cookies.append(
                        {
                            "name": "mzk_session",
                            "value": web_db.keys[who],
                            "url": live_server + "/web/",
                        }
                    )
                context.add_cookies(cookies)
                pages[(who, language)] = context.new_page()
            page = pages[(who, language)]
            page.goto(path)
            assert page.locator("html").get_attribute("lang") == language
            assert horizontal_overflow(page) == 0, (language, path)
            if language == "ka" or index < AXE_IN_BOTH:
                assert axe_violations(page) == [], (language, path)
            if index < AXE_IN_BOTH:
                screenshot(page, f"phone-{language}-{path.strip('/').replace('/', '-')}")
    # A chart on a phone keeps its labels legible: it scrolls in its own box instead.
    page = pages[("operator", "ka")]
    page.goto("/web/rounds/W-2022")
    tick = page.locator("#curve-chart text.tick").first.bounding_box()
    assert tick is not None and tick["height"] >= 9
    for page in pages.values():
        page.context.close()
