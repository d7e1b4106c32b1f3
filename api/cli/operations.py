"""`chunyun crews import/export` and `chunyun statements`: the operator's crew sheet and the
companies' charter statements from the command line, on the service's database (DATABASE_URL,
else the default), with the same sheet, checks and documents as the API and the pages.

PLAN_OR_SEASON is a plan id (digits) or a season name (its published plan).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from api.cli.text import _, cli_locale, error_text

if TYPE_CHECKING:
    from api import models

crews_app = typer.Typer(
    help="Coaches and crews of a plan's trips: the operator's sheet out and in.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `crews` group and `statements` to the main app."""
    app.add_typer(crews_app, name="crews")
    app.command(name="statements")(statements_command)


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the service's database: committed at the end, rolled back on error."""
    from api.core.config import get_settings
    from api.core.db import make_engine, make_session_factory, migrate

    engine = make_engine(get_settings().database_url)
    migrate(engine)
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _plan(session: Session, plan_or_season: str) -> models.Plan:
    """The plan with this id, or the published plan of the season with this name."""
    from api import crud
    from api.errors import NotFound

    if plan_or_season.isdigit():
        return crud.get_plan(session, plan_id=int(plan_or_season))
    season = crud.resolve_season(session, name=plan_or_season)
    plan = crud.latest_published_plan(session, season=season)
    if plan is None:
        raise NotFound(
            _("season {season} has no published plan; give a plan id", season=season.name)
        )
    return plan


def _fail(error: BaseException) -> typer.Exit:
    typer.echo(_("error: {error}", error=error_text(error)), err=True)
    return typer.Exit(1)


def _problems(error: BaseException) -> None:
    """Every bad row of a refused sheet: row, column, value and reason (nothing was saved)."""
    from api.i18n import translate_reason

    table = Table(title=error_text(error))
    for column in (_("row"), _("column"), _("value"), _("reason")):
        table.add_column(column)
    for problem in getattr(error, "problems", []):
        table.add_row(
            str(problem.row),
            problem.column,
            problem.value,
            translate_reason(cli_locale(), problem.reason),
        )
    Console(stderr=True, width=160).print(table)


@crews_app.command("export")
def export_crews(
    plan_or_season: Annotated[str, typer.Argument(help="Plan id, or season name.")],
    file: Annotated[Path, typer.Argument(help="The XLSX sheet to write.")],
) -> None:
    """Write the operator's crew sheet of a plan (the API's template): one row per trip with its
    date, route and drivers needed, and the coach and crew already assigned."""
    from api import crew_import, crud
    from optimizer.errors import ChunyunError

    try:
        with _session() as session:
            plan = _plan(session, plan_or_season)
            plan_id = plan.id
            trips = [t for t, _locked in crud.plan_trips(session, plan_id=plan_id)]
            content = crew_import.template_workbook(trips)
    except ChunyunError as error:
        raise _fail(error) from None
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    typer.echo(
        _("crew sheet of plan {plan} ({trips} trips) written to {file}", plan=plan_id,
          trips=len(trips), file=file)
    )  # fmt: skip


@crews_app.command("import")
def import_crews(
    plan_or_season: Annotated[str, typer.Argument(help="Plan id, or season name.")],
    file: Annotated[Path, typer.Argument(help="The filled crew sheet (XLSX, or a CSV like it).")],
    user: Annotated[
        str, typer.Option("--user", help="The dispatcher account the change is audited under.")
    ],
) -> None:
    """Assign coaches and crews from the operator's sheet, all or nothing: every bad row is
    listed with row, column, value and reason, and nothing is saved (as POST /plans/{id}/crews).
    A row without a plate leaves its trip unassigned."""
    from api import crew_import, crud, operations
    from api.core.config import get_settings
    from api.errors import Forbidden, RegistrationRejected
    from optimizer.errors import ChunyunError

    settings = get_settings()
    try:
        content = file.read_bytes()
    except OSError as error:
        raise _fail(error) from None
    try:
        if len(content) > settings.max_upload_bytes:
            from api.errors import TooLarge, message

            raise TooLarge(message("body_too_large", limit=settings.max_upload_bytes))
        crews, rows = crew_import.read_crews(file.name, content, max_rows=settings.max_upload_rows)
        with _session() as session:
            account = crud.find_user(session, user=user)
            if account.role != "dispatcher" or not account.is_active:
                raise Forbidden("only a dispatcher may do this")
            plan = _plan(session, plan_or_season)
            changed = operations.assign_crews(
                session,
                plan=plan,
                crews=crews,
                user=account,
                rows=rows,
                action="import crews (command line)",
            )
            plan_id = plan.id
    except RegistrationRejected as error:
        _problems(error)
        raise typer.Exit(1) from None
    except ChunyunError as error:
        raise _fail(error) from None
    assigned = sum(1 for trip, _locked in changed if trip.crew is not None)
    typer.echo(
        _("plan {plan}: {assigned} trip(s) assigned, {cleared} left unassigned, from {file}",
          plan=plan_id, assigned=assigned, cleared=len(changed) - assigned, file=file)
    )  # fmt: skip


def statements_command(
    plan_or_season: Annotated[str, typer.Argument(help="Plan id, or season name.")],
    out: Annotated[Path, typer.Argument(help="Folder to write the statements into.")],
    company: Annotated[
        str | None, typer.Option("--company", help="Only this company_id's statement.")
    ] = None,
) -> None:
    """Each company's charter statement (包车费用结算单) as XLSX and PDF, as the API and the
    pages offer them, and the season total: cost, subsidy and payable per company (RMB)."""
    from api import convert, crud
    from api.documents.statement import statement_pdf_bytes, statement_xlsx_bytes
    from api.errors import NotFound
    from optimizer.costs import rmb, season_costs
    from optimizer.errors import ChunyunError

    written: list[Path] = []
    try:
        with _session() as session:
            plan = _plan(session, plan_or_season)
            plan_id = plan.id
            season = plan.season
            trips = [t for t, _locked in crud.plan_trips(session, plan_id=plan_id)]
            costs = season_costs(trips, convert.subsidy_rule(season))
            names = {c.company_id: c.name for c in crud.list_companies(session, season=season)}
            chosen = [c for c in costs.companies if company is None or c.company_id == company]
            if company is not None and not chosen:
                raise NotFound(
                    _("plan {plan} carries nobody of company {company}", plan=plan_id,
                      company=company)
                )  # fmt: skip
            out.mkdir(parents=True, exist_ok=True)
            for statement in chosen:
                name = names.get(statement.company_id, statement.company_id)
                stem = out / f"statement-plan-{plan_id}-{_safe(statement.company_id)}"
                for suffix, render in (
                    (".xlsx", statement_xlsx_bytes),
                    (".pdf", statement_pdf_bytes),
                ):
                    path = stem.with_suffix(suffix)
                    path.write_bytes(render(statement, costs, trips, name, cli_locale()))
                    written.append(path)
    except (ChunyunError, OSError) as error:
        raise _fail(error) from None
    table = Table(title=_("charter costs of plan {plan} (RMB)", plan=plan_id))
    for column in (_("company"), _("passengers"), _("cost"), _("subsidy"), _("payable")):
        table.add_column(column, justify="left" if column == _("company") else "right")
    for statement in chosen:
        table.add_row(
            names.get(statement.company_id, statement.company_id),
            str(statement.passengers),
            rmb(statement.cost_fen),
            rmb(statement.subsidy_fen),
            rmb(statement.payable_fen),
        )
    if company is None:
        table.add_row(
            _("season total"),
            str(sum(c.passengers for c in chosen)),
            rmb(costs.total_cost_fen),
            rmb(costs.total_subsidy_fen),
            rmb(costs.total_cost_fen - costs.unallocated_fen - costs.total_subsidy_fen),
        )
    Console(width=160).print(table)
    typer.echo(_("{count} statement file(s) written to {folder}", count=len(written), folder=out))


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
