"""`chunyun serve` (the web service) and `chunyun users ...` (accounts in the same database:
add, list, disable, enable, revoke-tokens)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from api.cli.text import _, detail_text, error_text

users_app = typer.Typer(
    help="Accounts of the service (dispatchers and employers).", no_args_is_help=True
)


class Role(StrEnum):
    dispatcher = "dispatcher"
    employer = "employer"


def register(app: typer.Typer) -> None:
    """Add `serve` and the `users` group to the main app."""
    app.command()(serve)
    app.add_typer(users_app, name="users")


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            help="start on a fresh demo database (demo.db in the data directory) holding a "
            "bundled season, a dispatcher and a few employers, whose passwords are printed"
        ),
    ] = False,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="run planning jobs in this process (default; CHUNYUN_IN_PROCESS_WORKER=false "
            "or --no-worker: `chunyun worker` processes run them)",
        ),
    ] = True,
) -> None:
    """Run the web service: the pages at /, the API reference at /docs. Database:
    DATABASE_URL, else the SQLite default."""
    import uvicorn

    from api.cli.text import service_message
    from api.core.config import Settings, get_settings, user_data_dir
    from api.core.db import describe, make_engine
    from api.main import create_app

    app = create_app()
    settings = get_settings()
    if demo:
        demo_file = user_data_dir() / "demo.db"
        for suffix in ("", "-wal", "-shm"):
            demo_file.with_name(demo_file.name + suffix).unlink(missing_ok=True)
        settings = Settings(DATABASE_URL=f"sqlite:///{demo_file}")  # type: ignore[call-arg]
        _load_demo(settings.database_url)
    if not worker:
        settings = settings.model_copy(update={"in_process_worker": False})
    if demo or not worker:
        chosen = settings
        app.dependency_overrides[get_settings] = lambda: chosen
    engine = make_engine(settings.database_url)
    typer.echo(_("database: {database}", database=detail_text(describe(engine))))
    engine.dispose()
    typer.echo(
        service_message("serve_jobs_here" if settings.in_process_worker else "serve_jobs_elsewhere")
    )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    address = f"http://{shown}:{port}"
    typer.echo(_("chunyun pages: open {address}/ in a browser and sign in", address=address))
    typer.echo(_("API reference (offline): {address}/docs", address=address))
    # A stop (Ctrl-C, SIGTERM) waits at most this long for requests in flight, then ends.
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=15)


def _load_demo(database_url: str) -> None:
    from api.core.db import make_engine, make_session_factory, migrate
    from api.demo import demo_scenario_dir, load_scenario
    from optimizer.read import read_scenario

    folder = demo_scenario_dir()
    scenario = read_scenario(folder)
    engine = make_engine(database_url)
    migrate(engine)
    with make_session_factory(engine).begin() as session:
        accounts = load_scenario(session, scenario=scenario)
    engine.dispose()
    typer.echo(
        _(
            "demo season {season} from {folder}: {workers} workers, {companies} companies, "
            "{types} coach types",
            season=repr(scenario.name),
            folder=folder.name,
            workers=len(scenario.workers),
            companies=len(scenario.companies),
            types=len(scenario.fleet),
        )
    )
    typer.echo(_("demo accounts (sign in on the start page with a user name and password below):"))
    for account in accounts:
        company = _(" company {company}", company=account.company_id) if account.company_id else ""
        password = _("password {password}", password=account.password)
        typer.echo(f"  {_(account.role):<10} {account.username:<24} {password}{company}")


@users_app.command("add")
def add_user(
    role: Annotated[Role, typer.Option(help="dispatcher (the bureau) or employer (one company)")],
    username: Annotated[str, typer.Option(help="sign-in name")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="at least 8 characters, not the user name, not a common password",
        ),
    ],
    company: Annotated[
        str | None, typer.Option(help="company_id the employer belongs to (employers only)")
    ] = None,
) -> None:
    """Create an account in the database `chunyun serve` uses (DATABASE_URL, else the default).
    An employer's company must already be in a season."""
    from pydantic import ValidationError

    from api import crud, schemas
    from api.core.config import get_settings
    from api.core.db import describe, make_engine, make_session_factory, migrate
    from optimizer.errors import ChunyunError

    try:
        user_in = schemas.UserCreate(
            username=username,
            password=password,
            role=role.value,
            company_id=company,
        )
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {error_text(ValueError(e['msg']))}"
            for e in error.errors()
        )
        raise typer.BadParameter(reasons) from None
    engine = make_engine(get_settings().database_url)
    migrate(engine)
    try:
        with make_session_factory(engine).begin() as session:
            user = crud.create_user(session, user_in=user_in)
            made = f"{_(user.role)} {user.username!r}" + (
                _(" of company {company}", company=user.company_id) if user.company_id else ""
            )
    except ChunyunError as error:
        typer.echo(_("error: {error}", error=error_text(error)), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    database = detail_text(describe(engine))
    typer.echo(_("created {account} in {database}", account=made, database=database))


@users_app.command("list")
def list_users() -> None:
    """List the accounts of the service's database."""
    from api import crud
    from api.core.config import get_settings
    from api.core.db import make_engine, make_session_factory, migrate

    engine = make_engine(get_settings().database_url)
    migrate(engine)
    with make_session_factory(engine)() as session:
        for user in crud.list_users(session):
            company = user.company_id or ""
            state = "" if user.is_active else _(" (disabled)")
            typer.echo(f"{user.id:>4}  {_(user.role):<10} {user.username:<24} {company}{state}")
    engine.dispose()


def _change_user(username: str, change: str) -> None:
    """Apply `change` (disable, enable, revoke) to `username` in the service's database."""
    from api import crud
    from api.core.config import get_settings
    from api.core.db import make_engine, make_session_factory, migrate
    from optimizer.errors import ChunyunError

    engine = make_engine(get_settings().database_url)
    migrate(engine)
    try:
        with make_session_factory(engine).begin() as session:
            user = crud.find_user(session, user=username)
            if change == "revoke":
                crud.revoke_tokens(session, user=user)
            else:
                crud.set_active(session, user=user, active=change == "enable")
    except ChunyunError as error:
        typer.echo(_("error: {error}", error=error_text(error)), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@users_app.command("disable")
def disable_user(username: Annotated[str, typer.Argument(help="sign-in name")]) -> None:
    """Disable an account: it cannot sign in, and its tokens stop working at once."""
    _change_user(username, "disable")
    typer.echo(_("disabled {user}; its sign-ins have ended", user=repr(username)))


@users_app.command("enable")
def enable_user(username: Annotated[str, typer.Argument(help="sign-in name")]) -> None:
    """Enable a disabled account again."""
    _change_user(username, "enable")
    typer.echo(_("enabled {user}", user=repr(username)))


@users_app.command("revoke-tokens")
def revoke_tokens(username: Annotated[str, typer.Argument(help="sign-in name")]) -> None:
    """End every sign-in of an account (e.g. after a lost laptop); the password stays."""
    _change_user(username, "revoke")
    typer.echo(_("every token of {user} is revoked", user=repr(username)))
