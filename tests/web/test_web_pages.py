"""The numbers and structure of the pages (TestClient), against the JSON API and the
hand-worked amounts in conftest."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from pagetools import bearer, number, parse, sign_in

from auction import REJECTION_REASONS

PAGES = (
    "/web/contracts",
    "/web/statements",
    "/web/rounds",
    "/web/rounds/W-2022",
    "/web/settlements",
    "/web/treasury",
)


# --- numbers ---------------------------------------------------------------------------------


def test_statement_page_shows_the_api_numbers_and_the_hand_worked_amounts(client, web_db):
    sid = web_db.statements[("Alpha", "2022-01", 1)]
    api = client.get(f"/api/statements/{sid}", headers=bearer(web_db.keys["alpha"])).json()
    sign_in(client, web_db.keys["alpha"])
    html = client.get(f"/web/statements/{sid}").text
    (line,) = api["lines"]
    row = parse(html).tables["lines-table"][1]
    assert row[0] == line["contract_id"] and row[2] == line["reference_series"] == "balancing"
    assert number(row[3]) == Decimal(line["reference_price"]) == Decimal("101.50")
    assert number(row[4]) == line["eligible_kwh"] == 310_000
    assert number(row[5]) == line["excluded_kwh"] == 0
    assert number(row[6]) == Decimal(line["rate"]) == Decimal("49.00")
    assert number(row[7]) == Decimal(line["amount"]) == Decimal("15190.00")
    assert row[8] == "paid to the producer" and line["direction"] == "to_producer"
    net = re.search(r'id="net">([^<]+)<', html)
    assert net and number(net.group(1)) == Decimal(api["net"])
    assert "15,190.00 GEL" in html


def test_a_payment_by_the_producer_shows_as_such(client, web_db):
    sid = web_db.statements[("Alpha", "2022-02", 2)]
    sign_in(client, web_db.keys["alpha"])
    html = client.get(f"/web/statements/{sid}").text
    row = parse(html).tables["lines-table"][1]
    assert number(row[7]) == Decimal("-2730.00")  # 280 MWh × (150.50 − 160.25)
    assert row[8] == "paid by the producer"
    assert re.search(r'id="paid-by-producer">2,730.00 GEL<', html)


def test_monthly_money_in_and_out_sums_every_statement_of_the_month(client, web_db):
    sign_in(client, web_db.keys["alpha"])
    html = client.get("/web/statements").text
    rows = {r[0]: [number(c) for c in r[1:]] for r in parse(html).tables["money-table"][1:]}
    # January: the first run (15 190.00) plus the adjustment (1 519.00) for corrected meters.
    # Columns: paid to, paid by, reductions, net.
    assert rows["January 2022"] == [
        Decimal("16709.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("16709.00"),
    ]
    assert rows["February 2022"] == [
        Decimal("0.00"),
        Decimal("2730.00"),
        Decimal("0.00"),
        Decimal("-2730.00"),
    ]
    listed = parse(html).tables["statements-table"][1:]
    assert listed
    for row in listed:  # every statement: net = paid to − paid by − reductions
        to, by, reductions, net = (number(c) for c in row[-4:])
        assert to - by - reductions == net, row
    assert '<svg class="chart" id="money-chart"' in html and "<title" in html


def test_csv_download_is_the_api_csv(client, web_db):
    sid = web_db.statements[("Alpha", "2022-01", 3)]
    api = client.get(f"/api/statements/{sid}/csv", headers=bearer(web_db.keys["alpha"]))
    sign_in(client, web_db.keys["alpha"])
    page = client.get(f"/web/statements/{sid}/csv")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
    assert page.headers["content-disposition"].startswith("attachment;")
    assert page.content == api.content
    assert "adjustment" in page.text and "1519.00" in page.text


def test_round_page_lists_every_award_and_the_reason_for_every_rejection(client, web_db):
    results = client.get("/api/rounds/W-2022/results", headers=bearer(web_db.keys["operator"]))
    awards = {a["bid_id"]: a for a in results.json()["awards"]}
    sign_in(client, web_db.keys["operator"])
    tables = parse(client.get("/web/rounds/W-2022").text).tables
    accepted = {r[0]: r for r in tables["awarded-table"][1:]}
    rejected = {r[0]: r for r in tables["rejected-table"][1:]}
    assert set(accepted) == {b for b, a in awards.items() if a["accepted"]} == {"a1", "b1"}
    assert set(rejected) == {b for b, a in awards.items() if not a["accepted"]} == {"g1", "d1"}
    for bid_id, row in rejected.items():
        # The engine's reason once, then the bid's own price and the limit it met.
        assert row[4] == REJECTION_REASONS[awards[bid_id]["reason"]]
    assert number(rejected["g1"][3]) == Decimal("95.00")
    assert rejected["g1"][5] == "hydro ceiling 90.00 GEL/MWh"
    assert number(rejected["d1"][3]) == Decimal("190.00")
    # 3 000 000 − 2 757 500 used by a1 and b1 (see conftest): Delta needs 720 000.
    assert rejected["d1"][5] == (
        "budget 3,000,000.00 GEL, of which 242,500.00 GEL left by the accepted bids"
    )
    assert number(accepted["a1"][5]) == Decimal(awards["a1"]["price_paid"]) == Decimal("150.50")
    assert number(accepted["b1"][6]) == Decimal("2000000.00")  # (140 − 100) × 50 000 MWh


def test_round_page_compares_the_rules_and_draws_the_budget_curve(client, web_db):
    sign_in(client, web_db.keys["operator"])
    html = client.get("/web/rounds/W-2022").text
    tables = parse(html).tables
    methods = [r[0] for r in tables["comparison-table"][1:]]
    assert methods == ["optimiser", "germany", "uk skip", "stop at breach"]
    for row in tables["comparison-table"][1:]:  # every method buys a1 + b1 here
        assert number(row[4]) == Decimal("65000.000")
        assert number(row[5]) == Decimal("2757500.00")
        # (150.50 × 15 000 + 140.00 × 50 000) / 65 000 = 142.4230… per MWh
        assert number(row[6]) == Decimal("142.42")
        assert row[7] in ("—", "same bids")
    curve = tables["curve-table"][1:]
    assert sorted({number(r[0]) for r in curve}) == [
        Decimal(v) for v in ("750000", "1500000", "2250000", "3000000", "3750000", "4500000")
    ]
    assert len(curve) == 24  # six budgets × (optimiser and three rules)
    # At 25 % of the budget (750 000) only d1 (720 000) fits: 8 000 MWh for the optimiser and
    # uk_skip; germany and stop_at_breach end the round at b1, the first bid that breaches.
    at_quarter = {r[1]: number(r[2]) for r in curve if number(r[0]) == 750000}
    assert at_quarter == {"optimiser": 8000, "uk skip": 8000, "germany": 0, "stop at breach": 0}
    assert 'id="curve-chart"' in html and 'aria-labelledby="curve-chart-title' in html


def test_round_page_shows_the_stored_analysis_and_runs_no_solver(client, web_db, monkeypatch):
    import auction.clearing
    from api.services import rounds
    from api.uow import UnitOfWork

    def refuse(*args, **kwargs):
        raise AssertionError("a page view ran the clearing")

    monkeypatch.setattr(auction.clearing, "clear", refuse)
    with UnitOfWork.for_engine(web_db.engine) as uow:
        stored = rounds.stored_analysis(uow, "W-2022")
        analysis, sha = stored.analysis, stored.sha256
    sign_in(client, web_db.keys["operator"])
    html = client.get("/web/rounds/W-2022").text
    tables = parse(html).tables
    for row, kept in zip(tables["comparison-table"][1:], analysis["comparison"], strict=True):
        assert row[0] == kept["method"].replace("_", " ")
        assert [number(c) for c in row[2:7]] == [
            Decimal(kept[k])
            for k in ("accepted_bids", "capacity_mw", "energy_mwh", "budget_used", "average_price")
        ]
    for row, kept in zip(tables["curve-table"][1:], analysis["curve"], strict=True):
        assert number(row[0]) == Decimal(kept["budget"])
        assert number(row[2]) == Decimal(kept["energy_mwh"])
    assert sha[:16] in html


def test_a_round_cleared_without_a_stored_analysis_says_so(client, web_db):
    from api.db import models as m
    from api.uow import UnitOfWork

    with UnitOfWork.for_engine(web_db.engine) as uow:
        stored = uow.session.get(m.RoundAnalysis, "W-2022")
        kept = {c: getattr(stored, c) for c in ("round_id", "analysis", "sha256", "computed_at")}
        uow.session.delete(stored)
        uow.commit()
    try:
        sign_in(client, web_db.keys["operator"])
        response = client.get("/web/rounds/W-2022")
        assert response.status_code == 200
        assert 'id="no-analysis"' in response.text and "comparison-table" not in response.text
        assert "awarded-table" in response.text
    finally:
        with UnitOfWork.for_engine(web_db.engine) as uow:
            uow.session.add(m.RoundAnalysis(**kept))
            uow.commit()


def test_settlement_runs_page_shows_each_run_and_its_status(client, web_db):
    sign_in(client, web_db.keys["operator"])
    rows = parse(client.get("/web/settlements").text).tables["runs-table"][1:]
    status = {int(r[0]): (r[1], r[2]) for r in rows}
    first, second, third = web_db.runs
    assert status[first] == ("2022-01", "posted (first settlement), superseded")
    assert status[second] == ("2022-02", "posted (first settlement)")
    assert status[third] == ("2022-01", "posted (adjustments)")


def test_treasury_page_shows_the_forecast_reserve_and_headroom(client, web_db):
    job = client.get(
        f"/api/forecasts/{web_db.forecast}", headers=bearer(web_db.keys["treasury"])
    ).json()
    sign_in(client, web_db.keys["treasury"])
    html = client.get("/web/treasury").text
    tables = parse(html).tables
    annual = tables["annual-table"][1:]
    assert [int(r[0]) for r in annual] == [2022, 2023]
    for row, api in zip(annual, job["summary"]["annual"], strict=True):
        expected, reserve, budget = number(row[2]), number(row[4]), number(row[5])
        assert reserve == Decimal(api["reserve"])
        assert budget == Decimal("600000.00")  # the annual budget, 12 months of each year
        # Headroom recomputed from the page's own columns.
        assert number(row[6]) == budget - expected
        assert number(row[7]) == budget - number(row[3])
    monthly = tables["monthly-table"][1:]
    assert len(monthly) == 24
    for row, api in zip(monthly, job["summary"]["monthly"], strict=True):
        assert [number(c) for c in row[1:4]] == [Decimal(api[k]) for k in ("p5", "p50", "p95")]
        assert number(row[1]) <= number(row[2]) <= number(row[3])
    assert '<polygon class="band"' in html and '<polyline class="median"' in html


def test_times_are_shown_in_tbilisi_time(client, web_db):
    from datetime import datetime, timedelta

    round_json = client.get("/api/rounds/W-2022", headers=bearer(web_db.keys["operator"])).json()
    cleared_utc = datetime.fromisoformat(round_json["cleared_at"])
    local = (cleared_utc + timedelta(hours=4)).strftime("%Y-%m-%d %H:%M +04")  # no DST
    sign_in(client, web_db.keys["operator"])
    assert local in client.get("/web/rounds/W-2022").text


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_semantic_and_right_align_numbers(client, web_db, path):
    sign_in(client, web_db.keys["admin"])
    response = client.get(path)
    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]  # none at all
    assert "<script" not in response.text
    doc = parse(response.text)
    assert doc.first_link == "#main" and doc.mains == 1
    assert doc.captions == doc.table_count and doc.th_without_scope == 0
    assert '<nav aria-label="Main">' in response.text
    for table, rows in doc.tables.items():
        header = rows[0]
        for row, classes in zip(rows[1:], doc.classes[table][1:], strict=True):
            for cell, cls, title in zip(row, classes, header, strict=False):
                if re.fullmatch(r"[−-]?[\d,]+\.\d+( [A-Z]{3})?", cell):
                    assert "num" in cls, (path, table, title, cell)


def test_the_style_sheet_is_served_locally(client):
    response = client.get("/web/static/style.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert "tabular-nums" in response.text and ":focus-visible" in response.text
    assert client.get("/web/static/../conftest.py").status_code == 404


def test_an_open_round_shows_its_state_but_keeps_bids_sealed(client, web_db):
    sign_in(client, web_db.keys["operator"])
    rows = {r[0]: r for r in parse(client.get("/web/rounds").text).tables["rounds-table"][1:]}
    assert rows["W-2023"][2] == "open" and number(rows["W-2023"][3]) == 1
    assert rows["W-2022"][2] == "awarded" and number(rows["W-2022"][3]) == 4
    html = client.get("/web/rounds/W-2023").text
    assert "bids stay sealed" in html and 'aria-current="step"' in html
    assert "173.21" not in html and "Alpha" not in html


def test_a_forecast_still_queued_says_so(client, web_db):
    sign_in(client, web_db.keys["treasury"])
    response = client.get(f"/web/treasury/forecasts/{web_db.queued_forecast}")
    assert response.status_code == 200
    assert f"Forecast {web_db.queued_forecast[:8]} is queued" in response.text
    sign_in(client, web_db.keys["alpha"])
    assert client.get(f"/web/treasury/forecasts/{web_db.forecast}").status_code == 403
    assert client.get("/web/treasury/forecasts/no-such-job").status_code == 403
    sign_in(client, web_db.keys["treasury"])
    assert client.get("/web/treasury/forecasts/no-such-job").status_code == 404


def test_an_unknown_page_is_an_html_404(client, web_db):
    sign_in(client, web_db.keys["alpha"])
    response = client.get("/web/no-such-page")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "no page /web/no-such-page" in response.text
    assert client.get("/api/no-such-route").headers["content-type"] == "application/json"


def test_guarantees_of_origin_issued_and_used_through_the_forms(client, web_db, web_app):
    """Alpha's January 2022 (corrected run: 341 MWh metered, see conftest) becomes 341 GOs;
    cancelling the first 41 for a consumer leaves 300 active, and Beta sees none of them."""
    from datetime import date

    from api.actor import Actor
    from api.services import guarantees
    from api.uow import UnitOfWork

    with UnitOfWork.for_engine(web_db.engine) as uow:
        guarantees.register_installation(
            uow,
            Actor("seed-operator", "operator"),
            {
                "installation_id": "SPP-1",
                "producer": "Alpha",
                "energy_source": "solar",
                "installation_type": "ground-mounted solar",
                "location": "Kakheti",
                "capacity_mw": Decimal("10"),
                "commissioning_date": date(2021, 12, 1),
                "support_scheme": "cfd",
                "production_support": "CfD strike 150.50 GEL/MWh",
                "contract_id": "W-2022-a1",
            },
            date(2022, 2, 1),
        )
    web_app.state.go_today = lambda: date(2022, 2, 15)
    try:
        sign_in(client, web_db.keys["alpha"])
        token = client.cookies.get("mzk_csrf")
        issued = client.post(
            "/web/guarantees/issue",
            data={"installation_id": "SPP-1", "month": "2022-01", "csrf_token": token},
        )
        assert issued.status_code == 200 and 'id="done"' in issued.text
        (row,) = parse(issued.text).tables["holdings-table"][1:]
        first_id, last_id = row[0].split(" – ")
        assert number(row[1]) == 341 and last_id == first_id[:-4] + "0341"
        cut = first_id[:-4] + "0041"
        used = client.post(
            "/web/guarantees/cancel",
            data={
                "first_id": first_id,
                "last_id": cut,
                "beneficiary": "Tbilisi Metro",
                "csrf_token": token,
            },
        )
        rows = parse(used.text).tables["holdings-table"][1:]
        states = {(number(r[1]), r[4]) for r in rows}
        assert states == {(41, "used for Tbilisi Metro"), (300, "active")}
        sign_in(client, web_db.keys["beta"])
        assert "holdings-table" not in client.get("/web/guarantees").text
    finally:
        del web_app.state.go_today


def test_a_contract_page_shows_the_recorded_status_as_the_api_does(client, web_db):
    api = client.get("/api/contracts/W-2022-a1/status", headers=bearer(web_db.keys["alpha"])).json()
    sign_in(client, web_db.keys["alpha"])
    html = client.get("/web/contracts/W-2022-a1").text
    status = re.search(r'<dd id="contract-status">([^<]*)</dd>', html)
    assert status is not None and status.group(1) == api["status"].replace("_", " ")
    events = parse(html).tables["status-table"][1:]
    assert len(events) == len(api["history"]) >= 1


def test_the_public_results_need_no_key_and_publish_losing_bids_only_by_receipt(client, web_db):
    from api.uow import UnitOfWork

    with UnitOfWork.for_engine(web_db.engine) as uow:
        receipts = {b.bid_id: b.receipt for b in uow.bids.for_round("W-2022")}
    client.cookies.clear()
    html = client.get("/web/results/W-2022").text
    tables = parse(html).tables
    assert {r[0]: r[3] for r in tables["results-table"][1:]} == receipts
    assert [r[0] for r in tables["winners-table"][1:]] == ["a1", "b1"]
    assert "95.00" not in html and "190.00" not in html  # Gamma's and Delta's prices
    assert client.get("/web/results/W-2023").status_code == 404  # open: nothing published
