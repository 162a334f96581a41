"""The `bihuan` command (Typer): init, serve, demo, drill, import, sim, db, user."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bihuan.config import get_settings
from bihuan.core.choices import Role
from bihuan.core.clock import Clock, ContinuingClock, SystemClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database

app = typer.Typer(help="Bihuan (闭环): outbreak response command platform.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports into the register.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users and access.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
console = Console()
_DEMO_LOGINS: list[object] = []  # shown on the login page when serving a demo
_DEMO_CLOCK: list[Clock] = []  # a served demo's clock: carries on from its drill's simulated end


def _sim_app() -> typer.Typer:
    # The CLI is the composition root: the only platform module that reaches the simulator.
    from bihuan.sim.cli import sim_app

    return sim_app


app.add_typer(_sim_app(), name="sim")


def _database() -> Database:
    import bihuan.subscribers  # noqa: F401  (the loop's reactions run for what the CLI changes too)

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.resolved_database_url)


@app.command()
def init() -> None:
    """Create the data directory and bring the database schema to the newest migration."""
    database = _database()
    database.migrate()
    console.print(f"[green]Database ready[/] at {database.engine.url.render_as_string(hide_password=True)}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    init()


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Write a migration for what the models add (review it before committing)."""
    from bihuan.migrations.runner import new_revision

    new_revision(_database().engine, message)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the platform (API at /api, OpenAPI at /docs, pages at /)."""
    import uvicorn

    from bihuan.app import create_app

    database = _database()
    database.migrate()
    console.print(f"Bihuan is serving at [bold]http://{host}:{port}/[/]  (API docs: http://{host}:{port}/docs)")
    app_ = create_app(database=database, clock=_DEMO_CLOCK[0] if _DEMO_CLOCK else None)
    app_.state.demo_logins = _DEMO_LOGINS or None
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@import_app.command("persons")
def import_persons(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Import persons from a CSV or XLSX file; bad rows are reported, the same file twice adds nothing."""
    from bihuan.people.importer import import_persons as run_import

    database = _database()
    database.migrate()
    with Progress(console=console, transient=True) as progress, database.session() as session:
        task = progress.add_task(f"importing {file.name}", total=None)
        ctx = Ctx(session=session, clock=SystemClock(), actor=SYSTEM)
        report = run_import(
            ctx,
            file.name,
            file.read_bytes(),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    table = Table(title=f"Import report #{report.id}: {file.name}")
    for column in ("rows", "created", "updated", "unchanged", "rejected"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(v)
            for v in (
                report.rows_total,
                report.rows_created,
                report.rows_updated,
                report.rows_unchanged,
                report.rows_rejected,
            )
        )
    )
    console.print(table)
    for error in report.errors[:20]:
        console.print(f"  row {error['row']}: [bold]{error['field']}[/] {error['reason']}")
    if len(report.errors) > 20:
        console.print(f"  … and {len(report.errors) - 20} more (GET /api/imports/{report.id})")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[Role, typer.Option(help="The user's role.")],
    jurisdiction_code: Annotated[str, typer.Option(help="Administrative code of the user's jurisdiction; '' = all.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create a user bound to a jurisdiction."""
    from bihuan.core import auth
    from bihuan.people import service

    database = _database()
    database.migrate()
    with database.session() as session:
        ctx = Ctx(session=session, clock=SystemClock(), actor=SYSTEM)
        jurisdiction_id = None
        if jurisdiction_code:
            found = service.jurisdictions_by_code(ctx, {jurisdiction_code})
            if jurisdiction_code not in found:
                raise typer.BadParameter(f"no jurisdiction with code {jurisdiction_code}")
            jurisdiction_id = found[jurisdiction_code].id
        auth.create_user(ctx, username=username, password=password, role=role, jurisdiction_id=jurisdiction_id)
    console.print(f"[green]User {username} created[/] ({role.value})")


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="Residents in the synthetic district.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic district.")] = 20211220,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Load the demo, print the logins, do not serve.")
    ] = False,
    testing_round: Annotated[
        bool, typer.Option("--round/--no-round", help="Run a demo testing round with planted positives.")
    ] = True,
) -> None:
    """Generate a synthetic district, load it, create one demo user per role, print the logins and serve."""
    from bihuan.sim.demo import prepare_demo

    database = _database()
    database.migrate()
    ready = prepare_demo(
        database,
        get_settings().data_dir / "demo",
        people=people,
        seed=seed,
        console=console,
        testing_round=testing_round,
    )
    logins = ready.logins
    table = Table(title="Demo logins")
    for column in ("username", "password", "role", "jurisdiction"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.role_label, login.jurisdiction)
    console.print(table)
    console.print(f"Log in at [bold]http://{host}:{port}/login[/] with any of these (password {logins[0].password}).")
    if not no_serve:
        _DEMO_LOGINS.extend(logins)
        if ready.resumes_at is not None:
            console.print(
                f"The platform's clock carries on from the drill's end, {ready.resumes_at:%Y-%m-%d %H:%M} UTC."
            )
            _DEMO_CLOCK.append(ContinuingClock(ready.resumes_at))
        serve(host=host, port=port)


@app.command()
def drill(
    days: Annotated[int, typer.Option(min=1, help="Simulated days to run, from the outbreak's first day.")] = 3,
    hours: Annotated[int, typer.Option(min=0, max=23, help="Hours of the day after, to stop mid-day.")] = 0,
    people: Annotated[int, typer.Option(min=500, help="Residents in the synthetic district.")] = 5_000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the district and of the teams' pace.")] = 20211220,
) -> None:
    """Run the synthetic outbreak through the platform day by day, the simulator acting as the field teams
    through the API; then print the delays achieved, contacts against the truth and the open loops."""
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

    from bihuan.protocol import load_profile
    from bihuan.sim._field_report import print_summary
    from bihuan.sim.demo import create_demo_users
    from bihuan.sim.drill import days_worked, has_drilled, prepare_district, run_drill
    from bihuan.sim.load import load_district

    settings = get_settings()
    database = _database()
    database.migrate()
    if has_drilled(database):
        raise typer.BadParameter(
            "the database already holds a drill (or a demo); point BIHUAN_DATA_DIR or BIHUAN_DATABASE_URL at a "
            "fresh one"
        )
    length = days_worked(days, hours)
    directory = prepare_district(settings.data_dir / "drill", people=people, seed=seed, days=length, console=console)
    with console.status("Loading the district into the register ..."):
        load_district(database, SystemClock(), directory)
        create_demo_users(database)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} h"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        tasks: dict[object, object] = {}

        def advance(day: object, hour: int, hours: int) -> None:
            if day not in tasks:
                tasks[day] = progress.add_task(f"day {day}", total=hours)
            progress.update(tasks[day], completed=hour)  # type: ignore[arg-type]

        summary = run_drill(
            database,
            directory,
            load_profile(settings.profile),
            days=days,
            hours=hours,
            seed=seed,
            data_dir=settings.data_dir,
            timezone=settings.timezone,
            progress=advance,
        )
    print_summary(console, summary)
