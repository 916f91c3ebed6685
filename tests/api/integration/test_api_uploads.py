"""Uploads are all-or-nothing and idempotent; bad rows are named and change nothing."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from api.actor import Actor, Conflict
from api.db import models as m
from api.services import uploads
from mzekari.errors import InputError

OPERATOR = Actor("op-key", "operator")


def _upload_meters(uow_factory, body: str, key: str | None = None, chunk_rows: int = 500_000):
    data = body.encode()
    with uow_factory() as uow:
        return uploads.upload_meters(
            uow, OPERATOR, io.BytesIO(data), hashlib.sha256(data).hexdigest(), key, chunk_rows
        )


def _counts(uow_factory) -> tuple[int, int, int, int]:
    with uow_factory() as uow:
        s = uow.session
        return (
            s.scalar(select(func.count()).select_from(m.MeterReading)),
            s.scalar(select(func.sum(m.MeterReading.energy_kwh))) or 0,
            s.scalar(select(func.count()).select_from(m.Upload)),
            s.scalar(select(func.count()).select_from(m.AuditEntry)),
        )


def test_meter_upload_stores_every_value(awarded, uow_factory, scenario):
    body = scenario.meter_csv((1,))
    # Independent of the loader: sum the energy column of the text.
    expected = sum(int(line.rsplit(",", 1)[1]) for line in body.splitlines()[1:])
    outcome = _upload_meters(uow_factory, body, chunk_rows=500)  # many chunks
    assert outcome.upload.row_count == 2 * 744
    rows, total, _, _ = _counts(uow_factory)
    assert (rows, total) == (2 * 744, expected)


def test_bad_rows_are_named_and_nothing_is_written(awarded, uow_factory, scenario):
    good = scenario.meter_csv((1,)).splitlines()
    bad = [
        *good[:3],
        "2021-02-01T05:00:00,T-2021-a1,10",  # row 3: no UTC offset
        "2021-02-01T06:00:00+04:00,T-2021-zz,10",  # row 4: unknown contract
        "2021-02-01T07:00:00+04:00,T-2021-a1,1.5",  # row 5: not whole kWh
        "2021-02-01T08:00:00+04:00,T-2021-a1,-3",  # row 6: negative
        "2021-02-01T08:10:00+04:00,T-2021-a1,3",  # row 7: not on a quarter-hour
        good[1],  # row 8: repeats row 1
        *good[3:],
    ]
    before = _counts(uow_factory)
    with pytest.raises(InputError) as caught:
        _upload_meters(uow_factory, "\n".join(bad) + "\n", chunk_rows=4)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {
        (3, "timestamp"),
        (4, "contract_id"),
        (5, "energy_kwh"),
        (6, "energy_kwh"),
        (7, "timestamp"),
        (8, "timestamp"),
    }
    assert _counts(uow_factory) == before


def test_missing_columns_are_reported(awarded, uow_factory):
    with pytest.raises(InputError) as caught:
        _upload_meters(uow_factory, "timestamp,contract,kwh\n2021-01-01T00:00:00+04:00,a,1\n")
    fields = {p.field for p in caught.value.problems}
    assert "contract_id, energy_kwh" in fields


def test_same_content_or_key_does_nothing_twice(awarded, uow_factory, scenario):
    body = scenario.meter_csv((1,))
    first = _upload_meters(uow_factory, body, key="k1")
    after_first = _counts(uow_factory)
    again = _upload_meters(uow_factory, body)
    assert again.replayed and again.upload.id == first.upload.id
    keyed = _upload_meters(uow_factory, body, key="k1")
    assert keyed.replayed and keyed.upload.id == first.upload.id
    assert _counts(uow_factory) == after_first
    with pytest.raises(Conflict):
        _upload_meters(uow_factory, scenario.meter_csv((2,)), key="k1")


def test_a_corrected_upload_replaces_the_values_it_covers(awarded, uow_factory, scenario):
    _upload_meters(uow_factory, scenario.meter_csv((1,), alpha_kwh=1000))
    _upload_meters(uow_factory, scenario.meter_csv((1,), alpha_kwh=3000))
    rows, total, _, _ = _counts(uow_factory)
    assert rows == 2 * 744
    assert total == 31 * 10 * 3000 + 744 * 2000


def test_prices_name_bad_rows_and_change_nothing(uow_factory):
    body = b"month,price\n2021-01,101.50\n2021-13,99\n2021-03,12.345\n2021-01,5\n"
    with uow_factory() as uow, pytest.raises(InputError) as caught:
        uploads.upload_prices(
            uow, OPERATOR, "balancing", "GEL", io.BytesIO(body), hashlib.sha256(body).hexdigest()
        )
    assert {(p.row, p.field) for p in caught.value.problems} == {
        (2, "month"),
        (3, "price"),
        (4, "month"),
    }
    with uow_factory() as uow:
        assert uow.uploads.series("balancing") is None


def test_hourly_prices_keep_their_resolution_and_exact_values(uow_factory):
    body = (
        "timestamp,price\n"
        + "".join(f"2021-01-01T{h:02d}:00:00+04:00,{100 + h}.07\n" for h in range(24))
    ).encode()
    with uow_factory() as uow:
        uploads.upload_prices(
            uow, OPERATOR, "dam", "GEL", io.BytesIO(body), hashlib.sha256(body).hexdigest()
        )
    with uow_factory() as uow:
        assert uow.uploads.series("dam").resolution_s == 3600
        prices = uow.session.scalars(select(m.PricePoint.price).order_by(m.PricePoint.ts)).all()
    assert [str(p) for p in prices] == [f"{100 + h}.07" for h in range(24)]


def test_garbage_is_a_4xx_not_a_crash(client, auth):
    for body in (b"", b"\x00\xff\xfe garbage", b"a,b\n1\n1,2,3,4\n"):
        response = client.post("/api/meter-data", content=body, headers=auth("operator"))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["problems"]
