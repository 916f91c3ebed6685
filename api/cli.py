"""`mzekari serve | demo | admin create-key | db upgrade`. Heavy imports stay inside handlers
so `mzekari --help` stays fast."""

from __future__ import annotations

import argparse
import sys
from typing import Any

ROLES = ("operator", "producer", "treasury", "admin")


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the HTTP API (OpenAPI docs at /docs)")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default MZEKARI_WORKERS, else 1); each caches "
        "verified keys, so a key revoked through one is refused by the "
        "others within MZEKARI_KEY_CACHE_SECONDS",
    )
    serve.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="do not log every request"
    )
    serve.set_defaults(handler=_serve)

    demo = subparsers.add_parser(
        "demo", help="run the Georgia 2023 scenario end to end and print the statements"
    )
    demo.add_argument(
        "--out",
        default="out/demo",
        help="folder for the CSVs (and the SQLite database); a new or empty folder, or one an "
        "earlier demo made (only the demo's own files are replaced there)",
    )
    demo.add_argument("--months", type=int, default=12, help="months to settle (1-12)")
    demo.add_argument(
        "--database-url",
        default=None,
        help="an empty database to run in (default: MZEKARI_DATABASE_URL if set, else a new "
        "SQLite file in --out)",
    )
    demo.set_defaults(handler=_demo)

    admin = subparsers.add_parser("admin", help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    create_key = admin_sub.add_parser("create-key", help="create an API key (printed once)")
    create_key.add_argument("--role", required=True, choices=ROLES)
    create_key.add_argument("--producer", default=None, help="the producer a producer key is for")
    create_key.add_argument("--name", default="", help="a label for the key")
    create_key.set_defaults(handler=_create_key)

    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the migrations (MZEKARI_DATABASE_URL)")
    upgrade.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from api.db.engine import upgrade
    from api.demo import shown_url
    from api.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    print(f"database {shown_url(url)} at head")
    return 0


def _create_key(args: argparse.Namespace) -> int:
    from api.db.engine import make_engine, upgrade
    from api.demo import shown_url
    from api.services.keys import create_key
    from api.settings import get_settings
    from api.uow import UnitOfWork

    settings = get_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with UnitOfWork.for_engine(engine, settings.audit_key_bytes) as uow:
        issued = create_key(uow, args.role, args.producer, args.name)
    print(
        f"key id: {issued.key_id}  role: {issued.role}"
        + (f"  producer: {issued.producer}" if issued.producer else "")
        + f"  database: {shown_url(settings.database_url)}"
    )
    print(issued.secret_key)
    print("(shown once; only its hash is stored)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from api.app import create_app
    from api.db.engine import make_engine, upgrade
    from api.settings import Settings, get_settings
    from api.uow import UnitOfWork

    overrides = {
        k: v
        for k, v in (("host", args.host), ("port", args.port), ("workers", args.workers))
        if v is not None
    }
    settings = Settings(**{**get_settings().model_dump(), **overrides})
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with UnitOfWork.for_engine(engine) as uow:
        settings.check_serving(uow.keys.active_count())
    if settings.audit_key is None:
        print(
            "warning: MZEKARI_AUDIT_KEY is not set: audit entries are written unsigned, and "
            "a rewrite of the log by whoever holds the database is detectable only against an "
            "audit head kept elsewhere",
            file=sys.stderr,
        )
    # uvicorn picks the C HTTP parser and event loop (httptools, uvloop) when installed.
    if settings.workers == 1:
        uvicorn.run(
            create_app(settings, engine),
            host=settings.host,
            port=settings.port,
            access_log=args.access_log,
        )
        return 0
    # Each worker process builds its own app from the environment, so pass the settings on.
    engine.dispose()
    os.environ.update(
        {
            f"MZEKARI_{name.upper()}": str(value)
            for name, value in settings.model_dump().items()
            # The audit key stays as the environment gave it (its dump is masked).
            if value is not None and name != "audit_key"
        }
    )
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=args.access_log,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    import os

    from api.demo import run_demo

    # An explicit flag wins; else the service's own setting, when the environment gives one.
    url = args.database_url or os.environ.get("MZEKARI_DATABASE_URL") or None
    return run_demo(args.out, months=args.months, database_url=url)
