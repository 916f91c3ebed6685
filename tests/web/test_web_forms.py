"""The forms (in-process, TestClient) on a database of their own, the languages and the error
pages. Every check is against something independent: the engine's own messages, the stored
rows counted before and after, SHA-256 recomputed with hashlib, numbers written by hand."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import blank
from pagetools import parse, sign_in

from api.web import i18n, round_terms
from auction import REJECTION_REASONS

WEB = Path(i18n.__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)[sd]")
ROUND_TOML = """
round_id = "F-1"
name = "Form round"
currency = "GEL"
[[technologies]]
name = "solar"
ceiling_price = "200"
[budget]
amount = "1000000"
reference_price = "100"
"""


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    env = blank(tmp_path_factory.mktemp("forms") / "forms.sqlite")
    yield env
    env.engine.dispose()


@pytest.fixture
def client(forms: SimpleNamespace) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(forms.app) as test_client:
        yield test_client


def token(client: Any) -> str:
    client.get("/web/sign-in")
    return str(client.cookies.get("mzk_csrf"))


def count(forms: SimpleNamespace, table: str) -> int:
    from sqlalchemy import text

    with forms.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- languages ---------------------------------------------------------------------------------


def _extracted() -> set[Any]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(WEB),
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_message_of_the_pages_is_in_both_catalogues_with_the_same_placeholders():
    extracted = _extracted()
    assert len(extracted) > 300
    for language in i18n.LANGUAGES:
        path = WEB / "locale" / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as source:
            catalog = read_po(source)
        ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}
        assert extracted <= ids, (language, sorted(map(str, extracted - ids))[:10])
        if language != "ka":
            continue
        for message in catalog:
            if not message.id:
                continue
            ids_ = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else message.string
            assert all(strings), f"untranslated: {ids_[0]!r}"
            for text in strings:
                assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids_[-1])), text


def test_the_rejection_reasons_are_the_engines_words():
    assert {k: str(v) for k, v in round_terms.REASONS.items()} == REJECTION_REASONS


def test_the_language_switch_sets_a_cookie_and_the_page_follows_it(client):
    english = client.get("/web/sign-in")
    assert '<html lang="en">' in english.text and ">Sign in<" in english.text
    georgian = client.get("/web/sign-in?lang=ka")
    assert '<html lang="ka">' in georgian.text and "შესვლა" in georgian.text
    assert "mzk_lang=ka" in georgian.headers["set-cookie"]
    again = client.get("/web/sign-in")  # the cookie now chooses
    assert '<html lang="ka">' in again.text
    client.cookies.clear()
    asked = client.get("/web/sign-in", headers={"Accept-Language": "ka-GE,ka;q=0.9,en;q=0.5"})
    assert '<html lang="ka">' in asked.text
    assert '<html lang="en">' in client.get("/web/sign-in?lang=xx").text


# --- errors are pages -------------------------------------------------------------------------


def test_the_root_leads_to_the_pages_and_malformed_addresses_are_html_pages(client, forms):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/web/"
    sign_in(client, forms.keys["alpha"])
    for path, status in (
        ("/web/statements/abc", 422),
        ("/web/statements?month=banana", 422),
        ("/web/no-such-page", 404),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "<h1>" in response.text and '"detail"' not in response.text
    problems = parse(client.get("/web/statements?month=banana").text).tables["problems-table"]
    assert problems[1][2] == "month"


def test_a_form_without_this_sites_token_changes_nothing(client, forms):
    sign_in(client, forms.keys["operator"])
    before = count(forms, "rounds")
    response = client.post("/web/rounds", data={"round_id": "X", "name": "x"})
    assert response.status_code == 403
    response = client.post(
        "/web/rounds",
        data={"round_id": "X", "name": "x", "csrf_token": token(client)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert count(forms, "rounds") == before


# --- round files and uploads: the engine's messages, nothing stored on error ------------------


def test_a_round_file_is_checked_by_the_engine_and_a_valid_one_is_stored(client, forms):
    from auction import read_round_text
    from mzekari.errors import InputError

    sign_in(client, forms.keys["operator"])
    broken = ROUND_TOML.replace('ceiling_price = "200"', 'ceiling_price = "abc"')
    with pytest.raises(InputError) as engine:
        read_round_text(broken, "round file")
    before = count(forms, "rounds")
    response = client.post(
        "/web/rounds",
        data={"csrf_token": token(client)},
        files={"round_file": ("round.toml", broken.encode(), "application/toml")},
    )
    assert response.status_code == 422
    rows = parse(response.text).tables["problems-table"][1:]
    assert [(r[2], r[3]) for r in rows] == [(p.field, p.message) for p in engine.value.problems]
    assert count(forms, "rounds") == before
    response = client.post(
        "/web/rounds",
        data={"csrf_token": token(client)},
        files={"round_file": ("round.toml", ROUND_TOML.encode(), "application/toml")},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith(
        "/web/rounds/F-1?"
    )
    page = client.get("/web/rounds/F-1").text
    assert "draft" in page and "1,000,000.00 GEL" in page


def test_a_meter_file_with_errors_lists_each_row_and_field_and_stores_nothing(client, forms):
    sign_in(client, forms.keys["operator"])
    body = (
        "timestamp,contract_id,energy_kwh\n"
        "2022-01-01T00:00:00+04:00,C-1,10\n"
        "2022-01-01T01:00:00,C-1,10\n"  # no UTC offset
        "2022-01-01T02:00:00+04:00,C-1,-5\n"  # negative energy
    )
    before = (count(forms, "uploads"), count(forms, "meter_readings"))
    response = client.post(
        "/web/uploads/meter-data",
        data={"csrf_token": token(client)},
        files={"file": ("meters.csv", body.encode(), "text/csv")},
    )
    assert response.status_code == 422
    rows = parse(response.text).tables["problems-table"][1:]
    located = {(r[1], r[2]) for r in rows}
    assert ("2", "timestamp") in located and ("3", "energy_kwh") in located
    assert (count(forms, "uploads"), count(forms, "meter_readings")) == before


def test_the_receipt_file_is_recomputed_and_only_for_the_producers_own_bid(client, forms):
    sign_in(client, forms.keys["operator"])
    client.post(
        "/web/rounds",
        data={"csrf_token": token(client)},
        files={"round_file": ("r.toml", ROUND_TOML.replace("F-1", "F-2").encode(), "text/plain")},
    )
    client.post("/web/rounds/F-2/open", data={"csrf_token": token(client)})
    sign_in(client, forms.keys["alpha"])
    bid = {
        "bid_id": "s1",
        "technology": "solar",
        "capacity_mw": "5",
        "annual_mwh": "9000",
        "price": "150.00",
        "csrf_token": token(client),
    }
    answer = client.post("/web/rounds/F-2/bids", data=bid)
    assert answer.status_code == 201
    canonical = re.search(r'name="canonical_bid" value="([^"]+)"', answer.text)
    assert canonical is not None
    text = canonical.group(1).replace("&#34;", '"').replace("&quot;", '"')
    salt = re.search(r'name="salt" value="([0-9a-f]{64})"', answer.text)
    assert salt is not None
    # The commitment recomputed independently: HMAC-SHA256 keyed with the bidder's salt.
    receipt = hmac.new(bytes.fromhex(salt.group(1)), text.encode(), hashlib.sha256).hexdigest()
    assert receipt in answer.text and hashlib.sha256(text.encode()).hexdigest() not in answer.text
    kept = {"canonical_bid": text, "salt": salt.group(1)}
    download = client.post("/web/rounds/F-2/receipt", data={**kept, "csrf_token": token(client)})
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert receipt in download.text and text in download.text
    sign_in(client, forms.keys["beta"])
    refused = client.post("/web/rounds/F-2/receipt", data={**kept, "csrf_token": token(client)})
    assert refused.status_code == 403
    # A producer never sees another's sealed bid, nor how many bids there are.
    page = client.get("/web/rounds/F-2").text
    assert "150.00" not in page and "Bids received" not in page


def test_a_producer_withdraws_a_bid_and_the_operator_excludes_one_with_a_reason(client, forms):
    """Withdrawal while open removes the producer's own bid only; an exclusion after close
    needs a reason, is audited, keeps the bid out of the clearing and is published."""
    sign_in(client, forms.keys["operator"])
    client.post(
        "/web/rounds",
        data={"csrf_token": token(client)},
        files={"round_file": ("r.toml", ROUND_TOML.replace("F-1", "F-3").encode(), "text/plain")},
    )
    client.post("/web/rounds/F-3/open", data={"csrf_token": token(client)})
    bid = {"technology": "solar", "capacity_mw": "5", "annual_mwh": "9000", "price": "150.00"}
    for who, bid_id in (("alpha", "keep"), ("alpha", "gone"), ("beta", "b1")):
        sign_in(client, forms.keys[who])
        answer = client.post(
            "/web/rounds/F-3/bids", data={**bid, "bid_id": bid_id, "csrf_token": token(client)}
        )
        assert answer.status_code == 201
    before = count(forms, "bids")
    # Beta cannot withdraw Alpha's bid: the same 404 as a bid that does not exist.
    refused = client.post(
        "/web/rounds/F-3/withdraw", data={"bid_id": "gone", "csrf_token": token(client)}
    )
    assert refused.status_code == 404 and count(forms, "bids") == before
    sign_in(client, forms.keys["alpha"])
    done = client.post(
        "/web/rounds/F-3/withdraw", data={"bid_id": "gone", "csrf_token": token(client)}
    )
    assert done.status_code == 200 and 'id="done"' in done.text
    assert count(forms, "bids") == before - 1
    sign_in(client, forms.keys["operator"])
    client.post("/web/rounds/F-3/close", data={"csrf_token": token(client)})
    page = parse(client.get("/web/rounds/F-3").text).tables["bids-table"][1:]
    assert sorted(r[0] for r in page) == ["b1", "keep"]
    audit_before = count(forms, "audit_log")
    missing_reason = client.post(
        "/web/rounds/F-3/exclude",
        data={"bid_key": "Beta/b1", "reason": "  ", "csrf_token": token(client)},
    )
    assert missing_reason.status_code == 422 and "reason" in missing_reason.text
    assert count(forms, "audit_log") == audit_before
    excluded = client.post(
        "/web/rounds/F-3/exclude",
        data={
            "bid_key": "Beta/b1",
            "reason": "grid connection refused",
            "csrf_token": token(client),
        },
    )
    assert excluded.status_code == 200 and count(forms, "audit_log") == audit_before + 1
    client.post("/web/rounds/F-3/clear", data={"csrf_token": token(client)})
    results = client.get(
        "/api/rounds/F-3/results", headers={"Authorization": f"Bearer {forms.keys['operator']}"}
    ).json()
    assert [a["bid_id"] for a in results["awards"]] == ["keep"]
    assert [(e["bid_id"], e["excluded_reason"]) for e in results["excluded"]] == [
        ("b1", "grid connection refused")
    ]


def test_a_failed_forecast_lists_each_problem_and_shows_no_progress(client, forms):
    from datetime import UTC, datetime

    from api.db import models as m
    from api.uow import UnitOfWork

    error = "InputError: 2 problem(s) in the input:\n  - a: first\n  - b: second"
    with UnitOfWork.for_engine(forms.engine) as uow:
        uow.jobs.add(
            m.ForecastJob(
                id="failed-job",
                status="failed",
                progress_done=0,
                progress_total=0,
                config={"start_month": "2024-01", "months": 12},
                summary=None,
                error=error,
                created_at=datetime.now(UTC),
                finished_at=datetime.now(UTC),
                created_by="test",
            )
        )
        uow.commit()
    sign_in(client, forms.keys["treasury"])
    html = client.get("/web/treasury/forecasts/failed-job").text
    items = re.findall(r"<li>([^<]*)</li>", html[html.index('id="job-problems"') :])
    assert items[:3] == ["InputError: 2 problem(s) in the input:", "a: first", "b: second"]
    assert 'http-equiv="refresh"' not in html  # a finished job does not reload itself
    assert "0 / 0" not in html


def test_long_lists_are_paged():
    from api.web.queries import Page

    rows = list(range(1, 121))
    first, last, past = Page.of(rows, 1, 50), Page.of(rows, 3, 50), Page.of(rows, 9, 50)
    assert (first.items, first.pages, first.total) == (rows[:50], 3, 120)
    assert last.items == rows[100:] and past.items == []
    assert Page.of([], 1, 50).pages == 1


def test_the_audit_page_verifies_the_chain_and_names_an_altered_entry(tmp_path):
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient
    from sqlalchemy import text

    env = blank(tmp_path / "audit.sqlite")  # its five key creations are five entries
    with TestClient(env.app) as client:
        sign_in(client, env.keys["operator"])
        page = client.get("/web/audit?verify=1").text
        assert "all 5 entries recomputed" in page
        assert len(parse(page).tables["audit-table"]) == 1 + 5
        # The log refuses updates; a forged entry can only be appended, with a made-up hash.
        with env.engine.begin() as connection:
            last = connection.execute(text("SELECT hash FROM audit_log WHERE id = 5")).scalar()
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor_key_id, actor_role, action, entity, "
                    "details, prev_hash, hash) VALUES (:at, 'k', 'admin', 'key.create', "
                    "'key/x', '{}', :p, :h)"
                ),
                {"at": datetime.now(UTC).replace(tzinfo=None), "p": last, "h": "1" * 64},
            )
        page = client.get("/web/audit?verify=1").text
        assert "The chain is broken at entry 6" in page
    env.engine.dispose()


def test_the_round_form_is_checked_by_the_engine_field_by_field(client, forms):
    from auction import parse_round
    from mzekari.errors import InputError

    sign_in(client, forms.keys["operator"])
    fields = {
        "round_id": "F-3",
        "name": "Form round 3",
        "currency": "GEL",
        "budget": "1000000",
        "technology": ["solar", "", "", ""],
        "ceiling_price": ["abc", "", "", ""],
        "max_mw": ["", "", "", ""],
    }
    with pytest.raises(InputError) as engine:
        parse_round(
            {
                "round_id": "F-3",
                "name": "Form round 3",
                "currency": "GEL",
                "pricing": {"rule": "pay_as_bid"},
                "technologies": [{"name": "solar", "ceiling_price": "abc"}],
                "budget": {"amount": "1000000"},
            },
            source="round",
        )
    before = count(forms, "rounds")
    response = client.post("/web/rounds", data={**fields, "csrf_token": token(client)})
    assert response.status_code == 422
    rows = parse(response.text).tables["problems-table"][1:]
    assert [(r[2], r[3]) for r in rows] == [(p.field, p.message) for p in engine.value.problems]
    assert count(forms, "rounds") == before


def test_the_cpi_form_stores_a_good_file_once_and_a_bad_one_not_at_all(client, forms):
    sign_in(client, forms.keys["operator"])
    before = count(forms, "uploads")
    bad = client.post(
        "/web/uploads/cpi",
        data={"csrf_token": token(client)},
        files={"file": ("cpi.csv", b"month,cpi\n2025-04,abc\n", "text/csv")},
    )
    assert bad.status_code == 422 and count(forms, "uploads") == before
    good = b"month,cpi\n2025-04,112.3\n2025-05,112.9\n"
    stored = client.post(
        "/web/uploads/cpi",
        data={"csrf_token": token(client)},
        files={"file": ("cpi.csv", good, "text/csv")},
    )
    assert stored.status_code == 200 and count(forms, "uploads") == before + 1
    assert "2 rows of cpi" in stored.text
    again = client.post(
        "/web/uploads/cpi",
        data={"csrf_token": token(client)},
        files={"file": ("cpi.csv", good, "text/csv")},
    )
    assert "already stored" in again.text and count(forms, "uploads") == before + 1
