"""The standard-form contract of each privileged producer, rendered once at award from a
versioned form (api/contract_forms) and stored with its SHA-256, so what was signed can be
proved later: the hash is also in the audit entry of the award's grant.

The PDF is a rendering of the stored HTML, made when asked: the same HTML, fpdf2 version and
font give the same bytes (its creation date is the grant date), but the record is the HTML."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2

from api.db import models as m

FORM_VERSION = "cfd-2026-1"
FORMS = Path(__file__).resolve().parent.parent / "contract_forms"
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(FORMS)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def render(contract: m.Contract, state: m.ContractLifecycle, security: str | None = None) -> str:
    """The form filled with the contract's terms: same inputs, same bytes."""
    terms: dict[str, Any] = contract.terms
    return _environment.get_template(f"{FORM_VERSION}.html").render(
        form_version=FORM_VERSION,
        c=contract,
        s=state,
        technology=terms.get("technology", ""),
        annual_mwh=terms.get("annual_mwh", ""),
        price_currency=terms.get("strike_currency", contract.currency),
        fx_rule=terms.get("fx_rule"),
        reference_basis=terms.get("reference_basis", ""),
        reference_series=terms.get("reference_series", ""),
        security=security,
    )


def sha256_of(html: str) -> str:
    return sha256_of_bytes(html.encode("utf-8"))


def sha256_of_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def document(
    contract: m.Contract, state: m.ContractLifecycle, security: str | None
) -> m.ContractDocument:
    html = render(contract, state, security)
    return m.ContractDocument(
        contract_id=contract.contract_id,
        form_version=FORM_VERSION,
        html=html,
        sha256=sha256_of(html),
    )


def _font_dir() -> Path:
    # DejaVu Sans ships with matplotlib (a dependency) and covers Georgian as well as Latin.
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def pdf(html: str, granted_on: date) -> bytes:
    """The stored HTML form as an A4 PDF."""
    from fpdf import FPDF

    body = html[html.index("<body>") + len("<body>") : html.index("</body>")]
    document = FPDF(format="A4")
    document.set_creation_date(
        datetime(granted_on.year, granted_on.month, granted_on.day, tzinfo=UTC)
    )
    fonts = _font_dir()
    document.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    document.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    document.add_page()
    document.set_font("DejaVu", size=10)
    document.write_html(body, font_family="DejaVu")
    return bytes(document.output())
