"""``flask`` commands: ``demo``, ``bookings expire-pending``, ``api-keys create``, ``credentials``,
``backup create``/``restore``."""
from __future__ import annotations

import functools
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import URL, create_engine, func, inspect, make_url, select, table, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.redaction import redact

bookings_cli = AppGroup("bookings", help="Booking maintenance.")


@bookings_cli.command("expire-pending")
def expire_pending_command() -> None:
    """Mark pending requests past their expires_at as expired."""
    from app.services import booking_service

    count = booking_service.expire_pending()
    click.echo(f"Expired {count} pending request(s).")


credentials_cli = AppGroup("credentials", help="The credentials vault's encryption keys.")


@credentials_cli.command("new-key")
def new_key_command() -> None:
    """Print a new encryption key, to put first in FLOWKEY_ENCRYPTION_KEYS."""
    from app.services import credentials

    click.echo(credentials.generate_key())


@credentials_cli.command("rotate-key")
@click.option("--no-new-key", is_flag=True, help="With the instance key file: only re-encrypt, with the newest key already in it.")
def rotate_key_command(no_new_key: bool) -> None:
    """Re-encrypt every stored secret with a new key.

    With the instance key file (FLOWKEY_ENCRYPTION_KEYS unset): generate a key, put it first in
    the file, re-encrypt. With FLOWKEY_ENCRYPTION_KEYS set: re-encrypt with its first key (put
    the output of `flask credentials new-key` first in it, and restart, before running this).
    One transaction per connection; safe to run again (``--no-new-key`` after a restart).
    """
    from app.services import credentials

    path = current_app.config.get("FLOWKEY_ENCRYPTION_KEYS_FILE")
    if path and not no_new_key:
        keys = credentials.add_key_to_file(path)
        click.echo(f"Added a new key first in {path} ({len(keys)} keys in it now).")
    elif not path:
        click.echo(
            "FLOWKEY_ENCRYPTION_KEYS is set in the environment, which this command cannot change: "
            "re-encrypting every secret with its first (newest) key. To rotate, put the output of "
            "`flask credentials new-key` first in it, keep the old keys after it, restart, then run this."
        )
    result = credentials.reencrypt_all()
    click.echo(f"Re-encrypted {result.rewritten} secret(s) with the newest key; {result.current} already used it.")
    for error in result.unreadable:
        click.echo(f"Not rewritten: {error.message}", err=True)
    if result.unreadable:
        raise click.exceptions.Exit(1)
    if path:
        click.echo(
            "Restart the web and worker processes so they encrypt with the newest key too, then run "
            "`flask credentials rotate-key --no-new-key` to catch what they wrote meanwhile; after that "
            f"only the first key in {path} is needed."
        )
    else:
        click.echo("Once every process runs with the new variable and this has run, only its first key is needed.")


# ---------------------------------------------------------------------------------------- backup

backup_cli = AppGroup("backup", help="Back up the database to a file, and restore one into an empty database.")

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_ARCHIVE_MAGIC = b"PGDMP"  # pg_dump's custom format


class BackupError(Exception):
    """A backup or restore that cannot go ahead or failed; its message is the one line shown."""


def _one_line_errors(command):
    """Turn the failures an operator can act on into one redacted line on stderr and exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BackupError as exc:
            message = str(exc)
        except SQLAlchemyError as exc:
            # SQLAlchemy's own text adds the SQL and a documentation link: the driver's says it,
            # but not which database it could not reach.
            message = f"{_shown(_database_url())}: {getattr(exc, 'orig', None) or exc}"
        except (OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            message = str(exc)
        click.echo("Error: " + redact(" ".join(message.split())), err=True)
        raise click.exceptions.Exit(1)

    return wrapper


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_one_line_errors
def backup_create_command(file: Path) -> None:
    """Write a consistent copy of DATABASE_URL's database to FILE (replaced if it exists; mode 0600).

    Safe while the app serves and writes. SQLite: SQLite's online backup, a copy as of one
    instant. PostgreSQL: pg_dump --format=custom --no-owner (a snapshot), which needs pg_dump
    of the server's major version or newer on PATH.
    """
    url = _database_url()
    if not file.parent.is_dir():
        raise BackupError(f"{file.parent} is not a directory: create it first.")
    with _partial_file(file) as partial:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url, must_exist=True), partial)
            tool = "SQLite's online backup"
        elif url.get_backend_name() == "postgresql":
            tool = _pg_dump(url, partial)
        else:
            raise BackupError(f"{_shown(url)}: only SQLite and PostgreSQL databases can be backed up.")
    revision = _contents(url)[0]
    click.echo(f"Backed up {_shown(url)} (migration {revision or 'none'}) to {file} ({file.stat().st_size:,} bytes) with {tool}.")
    key_file = current_app.config.get("FLOWKEY_ENCRYPTION_KEYS_FILE")
    click.echo(
        f"Keep {key_file if key_file else 'the FLOWKEY_ENCRYPTION_KEYS value'} with it: the stored "
        "provider credentials cannot be read without those keys."
    )


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the database holds (PostgreSQL: pg_restore --clean --if-exists).")
@_one_line_errors
def backup_restore_command(file: Path, force: bool) -> None:
    """Restore a backup made by `flask backup create` into DATABASE_URL's database.

    SQLite: the backup replaces the database file's contents (created if missing), refused when
    the database has rows unless --force. PostgreSQL: pg_restore --no-owner --exit-on-error
    --single-transaction (all or nothing) into an empty database (create one with createdb),
    refused when the database has tables unless --force. Stop the web and worker processes first.
    """
    url = _database_url()
    backend = url.get_backend_name()
    with file.open("rb") as f:
        magic = f.read(len(SQLITE_MAGIC))
    kind = "sqlite" if magic == SQLITE_MAGIC else "postgresql" if magic.startswith(PG_ARCHIVE_MAGIC) else None
    if kind is None:
        raise BackupError(
            f"{file} is neither a SQLite database nor a pg_dump custom-format archive "
            "(restore a plain SQL dump with psql)."
        )
    if kind != backend:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(
            f"{file} is a {names[kind]} backup but DATABASE_URL ({_shown(url)}) is "
            f"{names.get(backend, backend)}: set DATABASE_URL to a {names[kind]} database."
        )
    held = _held(url)
    if held and not force:
        raise BackupError(f"{_shown(url)} is not empty ({held}); nothing was changed. Restore into "
                          "a new empty database, or add --force to replace what it holds.")
    if backend == "sqlite":
        _sqlite_restore(file, _sqlite_path(url, must_exist=False))
    else:
        _pg_restore(url, file, clean=force)
    revision, bookings = _contents(url)
    click.echo(f"Restored {file} into {_shown(url)}" + (f", replacing what it held ({held})" if held else "")
               + f": {bookings} bookings, migration {revision or 'none'}.")
    click.echo(_migration_advice(revision))


def _database_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _shown(url: URL) -> str:
    """``url`` as people see it: the plain backend name, the password as ``***``."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


@contextmanager
def _partial_file(file: Path) -> Iterator[Path]:
    """A new empty file beside ``file`` (mode 0600: backups hold personal data and password
    hashes) to write into; moved onto ``file`` when the block succeeds, deleted when it fails,
    so ``file`` is never a half-written backup."""
    partial = file.with_name(f".{file.name}.{os.getpid()}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        yield partial
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_path(url: URL, must_exist: bool) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("DATABASE_URL names an in-memory SQLite database: there is no file to back up or restore.")
    path = Path(url.database).resolve()
    if must_exist and not path.is_file():
        raise BackupError(f"{path} does not exist: check DATABASE_URL.")
    return path


def _sqlite_connect(path: Path, mode: str) -> sqlite3.Connection:
    """A connection in URI ``mode`` (``ro``, ``rw``, ``rwc``) that waits up to 30 s for locks,
    with pysqlite's implicit transactions off."""
    return sqlite3.connect(f"{path.as_uri()}?mode={mode}", uri=True, timeout=30, isolation_level=None)


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target`` with SQLite's online backup API in one step: it reads one
    snapshot, so writers on other connections (WAL mode) carry on and never tear the copy. The
    copy leaves WAL mode so it is one self-contained file."""
    src = _sqlite_connect(source, "rw")
    dst = _sqlite_connect(target, "rw")
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        if (check := dst.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"the copy of {source} failed SQLite's quick_check: {check}")
    finally:
        dst.close()
        src.close()


def _sqlite_restore(backup: Path, target: Path) -> None:
    """Replace ``target``'s contents with ``backup``'s through SQLite's backup API (page by page
    under SQLite's locks, so a WAL file beside ``target`` cannot resurrect old pages), after
    checking ``backup`` is a sound Flowkey database; ``target`` stays in WAL mode."""
    if backup.resolve() == target:
        raise BackupError(f"{backup} is the database DATABASE_URL names: restore a copy into another database.")
    src = _sqlite_connect(backup.resolve(), "ro")
    try:
        if (check := src.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"{backup} failed SQLite's quick_check ({check}); nothing was changed.")
        if src.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone() is None:
            raise BackupError(f"{backup} is not a Flowkey backup (it has no alembic_version table); nothing was changed.")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = _sqlite_connect(target, "rwc")
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    finally:
        src.close()


def _held(url: URL) -> str:
    """What stops a restore into ``url`` without --force, as text ("41 rows"), or "" when
    nothing does. SQLite: rows in any table but alembic_version (a migrated, empty file counts
    as empty). PostgreSQL: any table or view in the default schema (pg_restore would collide
    with it)."""
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url, must_exist=False).exists():
        return ""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            tables = inspector.get_table_names()
            rows = sum(
                conn.execute(select(func.count()).select_from(table(name))).scalar_one()
                for name in tables
                if name != "alembic_version"
            )
            if conn.dialect.name == "sqlite":
                return f"{rows} rows" if rows else ""
            relations = len(tables) + len(inspector.get_view_names())
            return f"{relations} tables and views, {rows} rows" if relations else ""
    finally:
        engine.dispose()


def _contents(url: URL) -> tuple[str | None, int | None]:
    """``(migration revision, number of bookings)`` of the database at ``url``, None for what
    it lacks."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if "alembic_version" in names else None
            bookings = conn.execute(text("SELECT count(*) FROM booking")).scalar_one() if "booking" in names else None
            return revision, bookings
    finally:
        engine.dispose()


def _migration_advice(revision: str | None) -> str:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    heads = scripts.get_heads()
    if revision in heads:
        return "It is at this code's newest migration: start the web and worker processes."
    if revision is None:
        return "It has no migration revision: it was not made by Flowkey's migrations; check the file."
    if revision in {script.revision for script in scripts.walk_revisions()}:
        return "It is older than this code: run `flask db upgrade`, then start the web and worker processes."
    return (f"Its migration {revision} is unknown to this code (a backup from a newer version?): "
            "deploy that version, or restore an older backup.")


# PostgreSQL ------------------------------------------------------------------------------------

def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """``(connection URI without the password, environment with PGPASSWORD)`` for the libpq
    tools: a password on a command line is visible to every user of the machine (``ps``)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # URL.set() ignores None, so build the URL again without the password.
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query)
    return bare.render_as_string(hide_password=False), env


def _server_major(url: URL) -> int:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT current_setting('server_version_num')")).scalar_one()) // 10000
    finally:
        engine.dispose()


def _pg_tool(name: str, server_major: int) -> tuple[str, str]:
    """``(path, version)`` of the PostgreSQL client tool ``name`` on PATH. Raises
    :class:`BackupError` when it is missing or older than the server (it would refuse to dump a
    newer server, or to read a newer archive)."""
    install = (f"install the PostgreSQL {server_major} client tools (Debian/Ubuntu: apt install "
               f"postgresql-client-{server_major}) or put their bin directory first on PATH")
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH: {install}.")
    output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(\S*)", output)
    if match is None:
        raise BackupError(f"{path} --version said {output.strip()!r}, not a PostgreSQL version: {install}.")
    if int(match.group(1)) < server_major:
        raise BackupError(f"{path} is version {match.group(1)}, older than the PostgreSQL {server_major} server: {install}.")
    return path, match.group(1) + match.group(2)


def _run_pg_tool(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line] or lines[-1:] or [f"exit status {result.returncode}"]
        raise BackupError(f"{Path(command[0]).name} failed: {errors[0]}")


def _pg_dump(url: URL, target: Path) -> str:
    path, version = _pg_tool("pg_dump", _server_major(url))
    conninfo, env = _libpq(url)
    _run_pg_tool([path, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={conninfo}"], env)
    return f"pg_dump {version}"


def _pg_restore(url: URL, backup: Path, clean: bool) -> None:
    path, _version = _pg_tool("pg_restore", _server_major(url))
    conninfo, env = _libpq(url)
    command = [path, "--no-owner", "--exit-on-error", "--single-transaction"]
    if clean:
        command += ["--clean", "--if-exists"]
    try:
        _run_pg_tool([*command, f"--dbname={conninfo}", str(backup)], env)
    except BackupError as exc:
        raise BackupError(f"{exc} (nothing was changed: the restore runs in one transaction)") from None


def register(app: Flask) -> None:
    app.cli.add_command(bookings_cli)
    app.cli.add_command(credentials_cli)
    app.cli.add_command(backup_cli)
    from app.api.keys_cli import api_keys_cli
    from app.demo import demo_command

    app.cli.add_command(demo_command)
    app.cli.add_command(api_keys_cli)
