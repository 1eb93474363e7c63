"""Alembic per service: `python -m libs.migrate <service> upgrade|check|revision -m MSG [--url URL]`.

Each service keeps its own `migrations/` (env.py calls `run_env`) and its own version table, so
several services may share one PostgreSQL database in a pinch and still migrate independently.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from libs.db import create_db_engine
from libs.settings import ROOT

SERVICES = {
    "gateway": "gateway",
    "courses": "services.courses",
    "progress": "services.progress",
    "certificates": "services.certificates",
}


def package_dir(service: str) -> Path:
    return ROOT / SERVICES[service].replace(".", "/")


def database_url(service: str) -> str:
    settings = importlib.import_module(SERVICES[service] + ".settings").get_settings()
    return str(settings.database_url)


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(package_dir(service) / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["service"] = service
    cfg.attributes["url"] = url or database_url(service)
    return cfg


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    from alembic import context

    cfg = context.config
    engine = create_db_engine(cfg.attributes["url"])
    # Tables and indexes a migration makes by hand that the models cannot describe (e.g. an SQLite FTS5
    # table with its shadow tables, a PostgreSQL expression index): their name prefixes go in
    # metadata.info["unmanaged"], and autogenerate leaves them alone.
    unmanaged = tuple(metadata.info.get("unmanaged", ()))

    def include_object(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        return not (unmanaged and name is not None and name.startswith(unmanaged))

    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=True,
            compare_type=True,
            include_object=include_object,
            version_table=f"alembic_version_{cfg.attributes['service']}",
        )
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=[*SERVICES, "all"])
    parser.add_argument("action", choices=["upgrade", "check", "revision"])
    parser.add_argument("-m", "--message", default="change")
    parser.add_argument("--url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ustaz-migrate-") as scratch:
        for service in SERVICES if args.service == "all" else [args.service]:
            url = args.url
            if args.action == "check" and url is None:
                # Drift check against a fresh database migrated to head: the models must match the migrations.
                url = f"sqlite:///{scratch}/{service}.db"
                upgrade(service, url)
            cfg = alembic_config(service, url)
            if args.action == "upgrade":
                command.upgrade(cfg, "head")
            elif args.action == "check":
                command.check(cfg)
            else:
                command.revision(cfg, message=args.message, autogenerate=True)


if __name__ == "__main__":
    main()
