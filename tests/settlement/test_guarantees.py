"""The GO ledger (law Art. 15): issuance in whole MWh with the remainder carried, transfer,
cancellation once for a named consumer, expiry, the CSV shape, and recognition of imports."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from mzekari.errors import InputError
from settlement.guarantee_io import (
    COLUMNS,
    Ledger,
    ledger_rows,
    read_ledger_text,
    write_ledger_text,
)
from settlement.guarantees import (
    Batch,
    GuaranteeConflict,
    GuaranteeNotFound,
    Installation,
    benefited,
    cancel,
    check_batch_coverage,
    initial_holdings,
    issue_batch,
    parse_range,
    recognise,
    transfer,
)

HPP = Installation(
    installation_id="HPP-7",
    producer="Alpha",
    energy_source="hydro",
    installation_type="run-of-river hydro",
    location="Rioni, Imereti",
    capacity_mw=Decimal("5"),
    commissioning_date=date(2023, 4, 1),
    investment_support="none",
    support_scheme="cfd",
    production_support="CfD strike 150.00 GEL/MWh",
    contract_id="C1",
)


def ledger_of(*batches: Batch) -> Ledger:
    return Ledger(
        {b.batch_id: b for b in batches}, [h for b in batches for h in initial_holdings(b)]
    )


def test_june_output_issues_whole_mwh_and_carries_the_rest_to_july():
    june = issue_batch(HPP, "2025-06", 1_234_567, date(2025, 7, 3))
    assert (june.volume, june.carried_out_kwh) == (1234, 567)
    assert (june.production_start, june.production_end) == (date(2025, 6, 1), date(2025, 6, 30))
    # July: 567 kWh carried + 1,000,433 kWh metered = 1,001,000 kWh = 1,001 GOs, nothing left.
    july = issue_batch(HPP, "2025-07", 1_000_433, date(2025, 8, 4), [june])
    assert (july.carried_in_kwh, july.volume, july.carried_out_kwh) == (567, 1001, 0)
    assert july.production_start == date(2025, 6, 1)  # its first GO holds June's energy
    assert june.go_id(1) == "GE-HPP-7-202506-0000001"
    assert july.go_id(1001) == "GE-HPP-7-202507-0001001"


def test_a_month_is_issued_once_and_never_before_a_later_one():
    june = issue_batch(HPP, "2025-06", 5_000, date(2025, 7, 3))
    with pytest.raises(GuaranteeConflict, match="issued once"):
        issue_batch(HPP, "2025-06", 5_000, date(2025, 7, 4), [june])
    with pytest.raises(GuaranteeConflict):
        issue_batch(HPP, "2025-05", 5_000, date(2025, 7, 4), [june])
    with pytest.raises(InputError, match="has not ended"):
        issue_batch(HPP, "2025-07", 5_000, date(2025, 7, 31), [june])
    # 5 MW × 721 h = 3,605,000 kWh is the most a month of 30 days can hold.
    with pytest.raises(InputError, match="capacity"):
        issue_batch(HPP, "2025-06", 3_605_001, date(2025, 7, 3))


def test_cancellation_allowed_until_twelve_months_after_production_then_refused():
    jan = issue_batch(HPP, "2025-01", 10_000, date(2025, 2, 5))
    holdings = initial_holdings(jan)
    assert jan.expires_on == date(2026, 1, 31)
    # A leap February's GOs: the same day a year on does not exist, the month's last does.
    assert issue_batch(HPP, "2024-02", 0, date(2024, 3, 1)).expires_on == date(2025, 2, 28)
    refused = pytest.raises(GuaranteeConflict, match="expired")
    with refused:
        cancel(jan, holdings, 1, 1, "Tbilisi Metro", date(2026, 2, 1), "Alpha")
    change = cancel(jan, holdings, 1, 1, "Tbilisi Metro", date(2026, 1, 31), "Alpha")
    cancelled = [h for h in change.added if h.status == "cancelled"]
    assert [(h.first, h.last, h.beneficiary, h.cancelled_on) for h in cancelled] == [
        (1, 1, "Tbilisi Metro", date(2026, 1, 31))
    ]


def test_a_go_is_cancelled_once():
    batch = issue_batch(HPP, "2025-06", 10_000, date(2025, 7, 3))
    ledger = ledger_of(batch)
    change = cancel(batch, ledger.holdings, 3, 5, "Consumer A", date(2025, 8, 1), "Alpha")
    ledger.apply(change.removed, change.added)
    with pytest.raises(GuaranteeConflict, match="already cancelled"):
        cancel(batch, ledger.holdings, 5, 6, "Consumer B", date(2025, 8, 2), "Alpha")
    with pytest.raises(GuaranteeConflict, match="already cancelled"):
        transfer(batch, ledger.holdings, 1, 10, "Supplier", date(2025, 8, 2), "Alpha")
    assert check_batch_coverage(batch, ledger.holdings) == []


def test_transfer_splits_runs_and_only_the_holder_may_act():
    batch = issue_batch(HPP, "2025-06", 1_234_567, date(2025, 7, 3))
    ledger = ledger_of(batch)
    change = transfer(batch, ledger.holdings, 1, 400, "Supplier", date(2025, 7, 10), "Alpha")
    ledger.apply(change.removed, change.added)
    runs = sorted((h.first, h.last, h.holder) for h in ledger.holdings)
    assert runs == [(1, 400, "Supplier"), (401, 1234, "Alpha")]
    with pytest.raises(GuaranteeNotFound):
        transfer(batch, ledger.holdings, 1, 1, "Beta", date(2025, 7, 11), "Alpha")
    with pytest.raises(GuaranteeNotFound):
        transfer(batch, ledger.holdings, 1200, 1235, "Beta", date(2025, 7, 11), "Alpha")
    # One MWh once: every serial in exactly one holding after any number of splits.
    change = cancel(batch, ledger.holdings, 10, 20, "Mall", date(2025, 7, 12), "Supplier")
    ledger.apply(change.removed, change.added)
    assert check_batch_coverage(batch, ledger.holdings) == []
    assert sum(h.count for h in ledger.holdings) == 1234


def test_benefited_counts_gos_sold_or_cancelled_from_the_producers_account():
    june = issue_batch(HPP, "2025-06", 1_234_567, date(2025, 7, 3))
    ledger = ledger_of(june)
    for action in (
        lambda hs: transfer(june, hs, 1, 400, "Supplier", date(2025, 7, 10), "Alpha"),
        lambda hs: cancel(june, hs, 1000, 1009, "Bakery", date(2025, 7, 10), "Alpha"),
    ):
        change = action(ledger.holdings)
        ledger.apply(change.removed, change.added)
    uses = benefited(ledger.batches.values(), ledger.holdings, "2025-06")
    assert list(uses) == ["C1"]
    assert uses["C1"].kwh == 410_000
    assert uses["C1"].ranges == (
        "GE-HPP-7-202506-0000001…GE-HPP-7-202506-0000400",
        "GE-HPP-7-202506-0001000…GE-HPP-7-202506-0001009",
    )
    assert benefited(ledger.batches.values(), ledger.holdings, "2025-07") == {}


def test_every_go_carries_the_fields_of_article_15_12_and_a_unique_id():
    june = issue_batch(HPP, "2025-06", 3_000, date(2025, 7, 3))
    july = issue_batch(HPP, "2025-07", 2_000, date(2025, 8, 3), [june])
    rows = ledger_rows(ledger_of(june, july))
    art_15_12 = (
        "energy_source",
        "energy_carrier",
        "production_period_start",
        "production_period_end",
        "production_device_id",
        "device_location",
        "device_type",
        "device_capacity_mw",
        "investment_support",
        "production_support",
        "support_scheme",
        "commissioning_date",
        "issue_date",
        "issuing_country",
        "certificate_id_from",
    )
    for row in rows:
        assert all(row[name] for name in art_15_12), row
    ids = [
        f"{row['batch_id']}-{n:07d}"
        for row in rows
        for n in range(int(row["certificate_id_from"][-7:]), int(row["certificate_id_to"][-7:]) + 1)
    ]
    assert len(ids) == len(set(ids)) == 3 + 2


def test_export_then_import_reproduces_the_ledger():
    june = issue_batch(HPP, "2025-06", 1_234_567, date(2025, 7, 3))
    july = issue_batch(HPP, "2025-07", 300, date(2025, 8, 3), [june])  # no GO: all carried
    foreign = replace(
        june,
        batch_id="RS-VE-9-2025Q2",
        installation=replace(
            HPP,
            installation_id="VE-9",
            country="RS",
            contract_id=None,
            support_scheme="none",
            energy_source="wind",
            producer="Srb",
        ),
        issued_to="Srb",
        origin="imported",
        volume=50,
        serial_width=9,
    )
    outside = replace(
        foreign,
        batch_id="US-X-1",
        installation=replace(foreign.installation, country="US"),
        volume=3,
    )
    ledger = ledger_of(june, july, recognise(foreign))
    ledger.batches[outside.batch_id] = recognise(outside)
    change = transfer(june, ledger.holdings, 1, 400, "Supplier", date(2025, 7, 10), "Alpha")
    ledger.apply(change.removed, change.added)
    change = cancel(june, ledger.holdings, 401, 402, "Bakery", date(2025, 7, 11), "Alpha")
    ledger.apply(change.removed, change.added)
    text = write_ledger_text(ledger)
    again = read_ledger_text(text)
    assert again.batches == ledger.batches
    assert again.sorted_holdings() == ledger.sorted_holdings()
    assert write_ledger_text(again) == text
    assert ledger.batches["US-X-1"].recognition == "refused"
    assert "not a Party to the Energy Community" in ledger.batches["US-X-1"].refusal_reason
    assert ledger.batches["RS-VE-9-2025Q2"].recognition == "recognised"
    assert list(csv.DictReader(io.StringIO(text)).fieldnames or []) == list(COLUMNS)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_import_names_row_and_field_and_refusals_state_a_reason():
    june = issue_batch(HPP, "2025-06", 10_000, date(2025, 7, 3))
    rows = _rows(write_ledger_text(ledger_of(june)))
    bad = [dict(rows[0], energy_source="coal"), dict(rows[0], status="lost")]
    with pytest.raises(InputError) as caught:
        read_ledger_text(_text(bad), "registry.csv")
    where = {(p.source, p.row, p.field) for p in caught.value.problems}
    assert ("registry.csv", 1, "energy_source") in where
    assert ("registry.csv", 2, "status") in where
    # Two rows holding the same GO: one MWh counted twice is refused.
    with pytest.raises(InputError, match="exactly once"):
        read_ledger_text(_text([rows[0], rows[0]]))
    foreign = dict(
        rows[0],
        issuing_country="RS",
        batch_id="RS-1",
        certificate_id_from="RS-1-0000001",
        certificate_id_to="RS-1-0000010",
        recognition="refused",
        refusal_reason="",
        account="",
        status="refused",
        contract_id="",
        support_scheme="none",
    )
    with pytest.raises(InputError, match="states its reason"):
        read_ledger_text(_text([foreign]))
    ok = read_ledger_text(_text([dict(foreign, refusal_reason="device also in RS scheme")]))
    assert ok.holdings == [] and ok.batches["RS-1"].recognition == "refused"


def test_go_range_must_be_one_batch_in_order():
    assert parse_range("GE-HPP-7-202506-0000001", "GE-HPP-7-202506-0000400") == (
        "GE-HPP-7-202506",
        1,
        400,
    )
    for first, last in (
        ("GE-HPP-7-202506-0000002", "GE-HPP-7-202506-0000001"),
        ("GE-HPP-7-202506-0000001", "GE-HPP-7-202507-0000001"),
        ("../etc/passwd", "x"),
    ):
        with pytest.raises(InputError):
            parse_range(first, last)


def test_a_month_before_commissioning_or_outside_the_calendar_is_not_issued():
    future = replace(HPP, commissioning_date=date(9999, 12, 31))
    with pytest.raises(InputError, match="commissioned on 9999-12-31"):
        issue_batch(future, "2025-06", 10_000, date(2025, 7, 3))
    for month in ("0000-05", "0001-01", "9999-12"):
        with pytest.raises(InputError, match="month"):
            issue_batch(HPP, month, 0, date(2025, 7, 3))


def _problem_at(text: str) -> set[tuple[int | None, str | None]]:
    with pytest.raises(InputError) as caught:
        read_ledger_text(text)
    return {(p.row, p.field) for p in caught.value.problems}


def test_each_bad_cell_is_named_by_its_own_row_and_field():
    june = issue_batch(HPP, "2025-06", 10_000, date(2025, 7, 3))
    (row,) = _rows(write_ledger_text(ledger_of(june)))
    for column, value in (
        ("volume_mwh", "abc"),
        ("volume_mwh", "-100"),
        ("account", "x" * 10_000),
        ("production_period_start", "2025-13-01"),
        ("production_period_end", "yesterday"),
        ("batch_volume_mwh", str(10**23)),
        ("device_capacity_mw", "many"),
        ("cancelled_on", "2025-07-05"),  # on an active run
    ):
        assert _problem_at(_text([dict(row, **{column: value})])) == {(1, column)}, column


def test_imported_records_must_agree_with_themselves():
    june = issue_batch(HPP, "2025-06", 10_000, date(2025, 7, 3))
    (row,) = _rows(write_ledger_text(ledger_of(june)))
    # 10^9 MWh from 0 kWh metered; 10 MWh from a 0.001 MW plant in a month.
    huge = dict(
        row,
        batch_volume_mwh=str(10**9),
        volume_mwh=str(10**9),
        certificate_id_to=f"{june.batch_id}-{10**9}",
        metered_kwh="0",
    )
    assert _problem_at(_text([huge])) == {(1, "batch_volume_mwh")}
    assert _problem_at(_text([dict(row, device_capacity_mw="0.001")])) == {(1, "metered_kwh")}
    # A cancellation after the GOs expired (Art. 15(8)), or before they were issued.
    for day in ("2026-07-01", "2025-07-02"):
        used = dict(row, status="cancelled", beneficiary="Metro", cancelled_on=day)
        assert _problem_at(_text([used])) == {(1, "cancelled_on")}, day
    # A row with more cells than the header has columns.
    extra = _text([row]).rstrip("\n") + ",surprise\n"
    assert _problem_at(extra) == {(1, None)}
    # GOs of a country outside the Energy Community are refused, and the row says how.
    outside = dict(
        row,
        issuing_country="ZZ",
        contract_id="",
        support_scheme="none",
        metered_kwh="0",
    )
    with pytest.raises(InputError, match="ZZ is not a Party"):
        read_ledger_text(_text([outside]))
