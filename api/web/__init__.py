"""Server-rendered pages for producers, operators and treasury, under /web.

Jinja2 templates in Georgian and English (Babel catalogues), one hand-written style sheet and
inline SVG charts; every form works without scripts. Sign-in uses the API keys and roles of
the JSON API; a producer sees only its own data.
"""

from fastapi import APIRouter

from api.web import (
    pages_admin,
    pages_auth,
    pages_guarantees,
    pages_operator,
    pages_producer,
    pages_rounds,
    pages_treasury,
)

router = APIRouter()
for _module in (
    pages_auth,
    pages_guarantees,
    pages_rounds,
    pages_producer,
    pages_operator,
    pages_treasury,
    pages_admin,
):
    router.include_router(_module.router)
router.include_router(pages_auth.fallback)

__all__ = ["router"]
