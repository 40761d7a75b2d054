"""``make migration MESSAGE="..."``: a new Alembic revision of the service's schema, written by
comparing the models with a database migrated to the newest revision (a temporary SQLite file).
Read it before committing: autogenerate misses renames and data moves."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from alembic import command
from alembic.config import Config

import app.main  # noqa: F401  (every model module)
from app.db.base import Base
from app.db.migrate import MIGRATIONS, head_revision, upgrade_schema
from app.db.session import Database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("message", help="what the revision changes, as a sentence")
    message = parser.parse_args().message
    number = f"{int(head_revision()) + 1:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(f"sqlite:///{Path(scratch) / 'head.db'}")
        upgrade_schema(database.engine)
        with database.engine.connect() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.set_main_option("file_template", f"%%(rev)s_{slug}")
            config.attributes["connection"] = connection
            config.attributes["target_metadata"] = Base.metadata
            script = command.revision(
                config, message=textwrap.fill(message, 96), autogenerate=True, rev_id=number
            )
        database.dispose()
    assert script is not None and not isinstance(script, list)
    written = Path(script.path)
    kept = [line for line in written.read_text().splitlines() if "# ###" not in line]
    written.write_text("\n".join(kept) + "\n")
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(written)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
