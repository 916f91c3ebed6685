"""Sign-in, sign-out, roles and ownership of the pages (TestClient)."""

from __future__ import annotations

import pytest
from pagetools import bearer, number, parse, sign_in

PAGES = (
    "/web/contracts",
    "/web/statements",
    "/web/rounds",
    "/web/rounds/W-2022",
    "/web/settlements",
    "/web/treasury",
)


# --- sign-in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_sign_in_without_a_session(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/web/sign-in?next={path}"


def test_sign_in_sets_an_httponly_strict_cookie_and_never_puts_the_key_in_a_url(client, web_db):
    key = web_db.keys["alpha"]
    response = sign_in(client, key, "/web/statements")
    assert response.status_code == 303
    assert response.headers["location"] == "/web/statements"
    assert key not in response.headers["location"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mzk_session=")
    for attribute in ("HttpOnly", "Path=/web", "SameSite=strict"):
        assert attribute in cookie
    assert client.get("/web/statements").status_code == 200


def test_a_wrong_key_is_refused_without_echoing_it(client):
    wrong = "mzk_000000000000_not-a-real-secret"
    response = sign_in(client, wrong)
    assert response.status_code == 401
    assert "not accepted" in response.text and wrong not in response.text
    assert "mzk_session" not in response.headers.get("set-cookie", "")


def test_sign_in_without_the_form_token_or_from_another_origin_is_refused(client, web_db):
    key = web_db.keys["alpha"]
    client.get("/web/sign-in")
    no_token = client.post("/web/sign-in", data={"api_key": key}, follow_redirects=False)
    token = client.cookies.get("mzk_csrf")
    foreign = client.post(
        "/web/sign-in",
        data={"api_key": key, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    for response in (no_token, foreign):
        assert response.status_code == 403
        assert "mzk_session" not in response.headers.get("set-cookie", "")


def test_sign_in_redirects_only_to_these_pages(client, web_db):
    for target in ("//evil.example/web/", "https://evil.example/", "/api/statements"):
        assert sign_in(client, web_db.keys["alpha"], target).headers["location"] == "/web/"


def test_sign_out_clears_the_session(client, web_db):
    sign_in(client, web_db.keys["alpha"])
    token = client.cookies.get("mzk_csrf")
    response = client.post("/web/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/web/sign-in"
    assert 'mzk_session=""' in response.headers["set-cookie"]
    assert client.get("/web/statements", follow_redirects=False).status_code == 303


def test_a_revoked_key_loses_its_session_at_once(client, web_db):
    from api.actor import SYSTEM
    from api.services.keys import create_key, revoke_key
    from api.uow import UnitOfWork

    with UnitOfWork.for_engine(web_db.engine) as uow:
        issued = create_key(uow, "operator", name="to be revoked")
    sign_in(client, issued.secret_key)
    assert client.get("/web/rounds").status_code == 200
    with UnitOfWork.for_engine(web_db.engine) as uow:
        revoke_key(uow, issued.key_id, SYSTEM)
    response = client.get("/web/rounds", follow_redirects=False)
    assert response.status_code == 303
    assert 'mzk_session=""' in response.headers["set-cookie"]


# --- roles and ownership ---------------------------------------------------------------------

ROLE_MATRIX = {
    # page → (JSON route of the same data, roles allowed)
    "/web/rounds": ("/api/rounds", ("alpha", "operator", "treasury", "admin")),
    "/web/uploads": ("/api/uploads", ("operator", "admin")),
    "/web/keys": ("/api/keys", ("admin",)),
    "/web/audit": ("/api/audit", ("operator", "admin")),
    "/web/guarantees": ("/api/guarantees/account", ("alpha", "operator", "admin")),
    "/web/settlements": ("/api/settlements", ("operator", "treasury", "admin")),
    "/web/treasury": (None, ("treasury", "admin")),
    "/web/contracts": ("/api/contracts", ("alpha", "operator", "treasury", "admin")),
    "/web/statements": ("/api/statements", ("alpha", "beta", "operator", "treasury", "admin")),
}


@pytest.mark.parametrize("who", ["alpha", "operator", "treasury", "admin"])
@pytest.mark.parametrize("path", sorted(ROLE_MATRIX))
def test_pages_for_another_role_answer_403(client, web_db, who, path):
    sign_in(client, web_db.keys[who])
    allowed = who in ROLE_MATRIX[path][1]
    response = client.get(path)
    assert response.status_code == (200 if allowed else 403), response.text[:300]
    if not allowed:
        assert "Not allowed" in response.text
        # The page names the role in words, not the code's list of roles.
        assert "['" not in response.text and "needs one of" not in response.text


@pytest.mark.parametrize("path", [p for p, (api, _) in ROLE_MATRIX.items() if api])
def test_pages_refuse_exactly_whom_the_json_api_refuses(client, web_db, path):
    for who in ("alpha", "operator", "treasury", "admin"):
        api = client.get(ROLE_MATRIX[path][0], headers=bearer(web_db.keys[who])).status_code
        sign_in(client, web_db.keys[who])
        assert client.get(path).status_code == api, who


def test_producer_b_cannot_open_producer_a_statement_page_or_csv(client, web_db):
    alpha_jan = web_db.statements[("Alpha", "2022-01", 1)]
    sign_in(client, web_db.keys["beta"])
    for path in (
        f"/web/statements/{alpha_jan}",
        f"/web/statements/{alpha_jan}/csv",
        "/web/contracts/W-2022-a1",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "15,190" not in response.text
    api = client.get(f"/api/statements/{alpha_jan}", headers=bearer(web_db.keys["beta"]))
    assert api.status_code == 404
    # The same 404 as a statement that does not exist at all.
    assert client.get("/web/statements/999999").status_code == 404


def test_a_producer_lists_only_its_own_statements_and_contracts(client, web_db):
    sign_in(client, web_db.keys["alpha"])
    statements = parse(client.get("/web/statements").text).tables["statements-table"][1:]
    ids = {int(number(row[0])) for row in statements}
    assert ids == {
        sid for (producer, _, _), sid in web_db.statements.items() if producer == "Alpha"
    }
    contracts = parse(client.get("/web/contracts").text).tables["contracts-table"][1:]
    assert [row[0] for row in contracts] == ["W-2022-a1"]
