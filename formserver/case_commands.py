"""`flask --app formserver cases ...`: the open cases, a fresh case link for the office, the
revocation of a case's links; and what `purge` and `stats` add for cases. Nothing printed
identifies a resident."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import access, case_stats, cases, reminders, stats
from .handling import store
from .vocabulary import REFERENCE
from .workdays import local_now


def now(config):
    return local_now(config["REGION"])


@contextmanager
def opened(config):
    """The store, or a one-line error instead of a traceback."""
    try:
        with store(config) as db:
            yield db
    except cases.StoreUnavailable as error:
        raise click.ClickException(f"the case store cannot be used: {error}") from None


def reference_argument(value: str) -> str:
    value = value.strip().upper()
    if not REFERENCE.match(value):
        raise click.BadParameter("a reference looks like 20261127-K7Q-4M2")
    return value


@click.group("cases")
def cases_command() -> None:
    """The case store: open cases, case links for the office."""


@cases_command.command("list")
@with_appcontext
def list_cases() -> None:
    """Open cases: reference, status, category, due date (overdue marked)."""
    config = current_app.config
    with opened(config) as db:
        open_cases = cases.open_cases(db)
    today = now(config).date()
    for case in open_cases:
        late = " overdue" if not case.answered and today > case.due else ""
        click.echo(f"{case.reference}  {case.status_label}  {case.category_label}  "
                   f"due {case.due}{late}")
    click.echo(f"{len(open_cases)} open case(s)")


@cases_command.command("link")
@click.argument("reference", callback=lambda _ctx, _param, value: reference_argument(value))
@with_appcontext
def link_command(reference: str) -> None:
    """Print a new link to a case (valid for CASE_LINK_DAYS), e.g. when the old one expired."""
    config = current_app.config
    with opened(config) as db:
        if cases.load(db, reference) is None:
            raise click.ClickException(f"no case {reference}")
        link = access.issue_link(db, reference, config, now(config))
    click.echo(link.url)
    click.echo(f"valid until {link.expires_at:%Y-%m-%d %H:%M}")


@cases_command.command("revoke")
@click.argument("reference", callback=lambda _ctx, _param, value: reference_argument(value))
@with_appcontext
def revoke_command(reference: str) -> None:
    """Revoke every link to a case (an email sent to the wrong person); `link` makes a new one."""
    with opened(current_app.config) as db:
        revoked = cases.revoke_links(db, reference)
    click.echo(f"revoked {revoked} link(s) to {reference}")


def purge(config) -> None:
    try:
        purged = reminders.purge_cases(config, now(config))
    except cases.StoreUnavailable as error:
        raise click.ClickException(f"the case store cannot be used: {error}") from None
    click.echo(f"purged {len(purged)} case(s) past CASE_KEEP_DAYS")


def print_case_stats(config, csv_path: Path | None) -> None:
    """The handling statistics per month and category, after the delivery statistics."""
    try:
        with store(config) as db:
            live = cases.cases_where(db)
    except cases.StoreUnavailable as error:
        click.echo(f"（個案資料暫時無法讀取：{error}；只列出已清除個案的統計）")
        live = []
    table = case_stats.monthly(Path(config["STATS_DB"]), live, config)
    click.echo("")
    click.echo("\t".join(case_stats.COLUMNS.values()))
    for row in table:
        click.echo("\t".join(str(row[column]) for column in case_stats.COLUMNS))
    if not table:
        click.echo("（尚未有個案）")
    if csv_path:
        cases_csv = csv_path.with_name(f"{csv_path.stem}-cases{csv_path.suffix}")
        stats.write_csv(table, cases_csv)
        click.echo(f"wrote {cases_csv}")
