"""`soundstar keys …` and `soundstar db …`: API keys and database migrations from the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from soundstar.errors import NotFoundError

if TYPE_CHECKING:
    from soundstar.store import Store

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


def _store() -> Store:
    from soundstar.config import load_settings
    from soundstar.store import Database, Store
    from soundstar.store.database import database_url

    db = Database(database_url(load_settings()))
    db.upgrade()
    return Store(db)


@keys_app.command("create")
def create_key(
    user: Annotated[str, typer.Argument(help="the person's user name (created if new)")],
    name: Annotated[
        str | None, typer.Option("--name", help="a label for the key, e.g. 'laptop'")
    ] = None,
) -> None:
    """Make an API key; the key is printed once and stored only hashed."""
    store = _store()
    record = store.users.get_by_name(user) or store.users.create(user)
    new = store.api_keys.create(record.id, name)
    typer.echo(new.token)
    typer.echo(
        f"key {new.key.id} for user {record.name!r} — shown once, keep it safe "
        "(send it as 'Authorization: Bearer <key>')",
        err=True,
    )


@keys_app.command("list")
def list_keys(user: Annotated[str, typer.Argument(help="the user whose keys to list")]) -> None:
    """List a user's keys (prefix, created, last used, revoked); never the secret."""
    store = _store()
    record = store.users.get_by_name(user)
    if record is None:
        raise NotFoundError(f"no user named {user!r}")
    keys = store.api_keys.list_for_user(record.id)
    if not keys:
        typer.echo(f"{user} has no keys")
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        typer.echo(
            f"{key.id}\t{key.prefix}…\t{key.name or '-'}\tcreated {key.created_at:%Y-%m-%d %H:%M}"
            f"\tlast used {used}\t{state}"
        )


@keys_app.command("revoke")
def revoke_key(
    user: Annotated[str, typer.Argument(help="the key's owner")],
    key_id: Annotated[int, typer.Argument(help="the key's id, from `soundstar keys list`")],
) -> None:
    """Revoke a key: it stops working at once (within two seconds on a running server)."""
    store = _store()
    record = store.users.get_by_name(user)
    if record is None or not store.api_keys.revoke(key_id, record.id):
        raise NotFoundError(f"user {user!r} has no key {key_id}")
    typer.echo(f"revoked key {key_id} of {user}")


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply the database migrations (SQLite by default, PostgreSQL via SOUNDSTAR_DATABASE_URL)."""
    from soundstar.config import load_settings
    from soundstar.store import Database
    from soundstar.store.database import database_url

    url = database_url(load_settings())
    db = Database(url)
    db.upgrade()
    typer.echo(f"database at revision {db.current_revision()}")
