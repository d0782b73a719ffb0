"""`flask --app formserver ...` commands: deliver the spool, show it, purge failures."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import case_commands, delivery, spool, stats
from .vocabulary import CATEGORIES


def when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "-"


@click.command("deliver")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep delivering (for a systemd unit).")
def deliver_command(loop: bool) -> None:
    """Send what is waiting in the spool."""
    config = current_app.config
    if loop:
        stop = threading.Event()
        click.echo(f"delivering every {config['DELIVERY_INTERVAL']}s; Ctrl+C to stop")
        try:
            delivery.run_forever(config, threading.Event(), stop)
        except KeyboardInterrupt:
            stop.set()
        return
    result = delivery.deliver_once(config)
    click.echo(f"sent {len(result.sent)}, deferred {len(result.deferred)}, "
               f"failed {len(result.failed)}")


@click.command("spool")
@with_appcontext
def spool_command() -> None:
    """Show what is waiting and what failed, and why (no personal data)."""
    listing = spool.list_spool(Path(current_app.config["SPOOL_DIR"]))
    click.echo(f"waiting: {len(listing['waiting'])}")
    for item in listing["waiting"]:
        click.echo(f"  {item['name']}  queued {when(item['queued_at'])}  "
                   f"attempts {item['attempts']}  next {when(item['next_try'])}  "
                   f"{item['last_error'] or ''}".rstrip())
    click.echo(f"failed: {len(listing['failed'])}")
    for item in listing["failed"]:
        click.echo(f"  {item['name']}  failed {when(item['failed_at'])}  {item['reason']}")


@click.command("purge")
@with_appcontext
@click.option("--all", "purge_all", is_flag=True,
              help="Purge every failed message now, not only those past FAILED_KEEP_DAYS.")
def purge_command(purge_all: bool) -> None:
    """Delete failed messages (they hold personal data) past their keeping time."""
    keep = 0 if purge_all else current_app.config["FAILED_KEEP_DAYS"] * delivery.DAY
    purged = spool.purge_failed(Path(current_app.config["SPOOL_DIR"]), keep, now=time.time())
    click.echo(f"purged {len(purged)} failed message(s)")
    case_commands.purge(current_app.config)  # cases past CASE_KEEP_DAYS (--all does not hurry them)


@click.command("stats")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table to this CSV file.")
@with_appcontext
def stats_command(csv_path: Path | None) -> None:
    """Anonymous monthly statistics: categories, outcomes, time to delivery."""
    try:
        print_stats(csv_path)
    except sqlite3.Error as error:
        raise click.ClickException(f"the statistics database cannot be read: "
                                   f"{type(error).__name__}") from None


def print_stats(csv_path: Path | None) -> None:
    table = stats.monthly(Path(current_app.config["STATS_DB"]))
    columns = ["month", "complaints", "follow_ups", *CATEGORIES, "anonymized", "files",
               "delivered", "failed", "median_minutes_to_delivery"]
    headings = ["月份", "投訴", "跟進", *CATEGORIES.values(), "脫敏", "檔案", "已送達", "失敗",
                "送達分鐘中位數"]
    click.echo("\t".join(headings))
    for row in table:
        click.echo("\t".join(str(row[column]) for column in columns))
    if not table:
        click.echo("（尚未有統計）")
    if csv_path:
        stats.write_csv(table, csv_path)
        click.echo(f"wrote {csv_path}")
    case_commands.print_case_stats(current_app.config, csv_path)


def init_app(app: Flask) -> None:
    for command in (deliver_command, spool_command, purge_command, stats_command,
                    case_commands.cases_command):
        app.cli.add_command(command)
