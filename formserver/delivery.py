"""The delivery worker: sends what is in the spool, inside the app or as its own process."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from functools import partial
from pathlib import Path

from flask import Flask

from . import drafts, reminders, spool, stats
from .logtext import where
from .senders import sender_for

log = logging.getLogger(__name__)
DAY = 86400


def deliver_once(config) -> spool.Round:
    spool_dir = Path(config["SPOOL_DIR"])
    try:
        reminders.run_timers(config)  # what they spool leaves in this round
    except Exception as error:  # the timers never stop delivery
        log.error("timers failed: %s at %s", type(error).__name__, where(error))
    rows, delivered, undelivered = [], [], []

    def count(message: bytes, outcome: str) -> None:
        try:
            if outcome == "delivered":
                delivered.extend(reminders.complaint_reference(message))
            else:
                undelivered.extend(reminders.complaint_reference(message, "to-resident"))
            row = stats.outcome_row(message, outcome, time.time())
        except Exception as error:  # counting never stops delivery
            log.warning("could not count a message: %s", type(error).__name__)
            return
        if row:
            rows.append(row)

    try:
        with sender_for(config) as send:
            result = spool.deliver_due(spool_dir, send, delays=config["RETRY_DELAYS"],
                                       give_up_after=config["RETRY_GIVE_UP_DAYS"] * DAY,
                                       give_up_attempts=config["RETRY_GIVE_UP_ATTEMPTS"],
                                       on_outcome=count)
    finally:  # whatever happened above, the statistics are written and the purges run
        reminders.note_deliveries(config, delivered, undelivered)
        try:
            stats.record_outcomes(Path(config["STATS_DB"]), rows)
        except (sqlite3.Error, OSError) as error:
            log.warning("could not record statistics: %s", type(error).__name__)
        purge(config)
    return result


def purge(config) -> None:
    """Delete what holds personal data past its keeping time; one purge failing (a folder
    that cannot be read) does not stop the others."""
    spool_dir = Path(config["SPOOL_DIR"])
    purges = {
        "failed messages": partial(spool.purge_failed, spool_dir, config["FAILED_KEEP_DAYS"] * DAY),
        # left half-written by a killed writer; a write takes seconds
        "half-written messages": partial(spool.purge_tmp, spool_dir, 3600),
        "drafts": partial(drafts.purge_drafts, Path(config["DRAFT_DIR"]),
                          config["DRAFT_MAX_AGE"], config["DRAFT_KEEP_ANSWERS"]),
    }
    for what, run in purges.items():
        try:
            run()
        except Exception as error:
            log.error("could not purge %s: %s at %s", what, type(error).__name__, where(error))


def run_forever(config, wake: threading.Event, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            deliver_once(config)
        except Exception:  # the worker must outlive any single bad round
            log.exception("delivery round failed")
        wake.wait(config["DELIVERY_INTERVAL"])
        wake.clear()


def start_in_process(app: Flask) -> None:
    """Deliver from a daemon thread of the app; a new submission wakes it at once."""
    wake, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=run_forever, args=(app.config, wake, stop),
                              name="formserver-delivery", daemon=True)
    app.extensions["delivery"] = {"wake": wake, "stop": stop, "thread": thread}
    thread.start()


def wake(app: Flask) -> None:
    worker = app.extensions.get("delivery")
    if worker:
        worker["wake"].set()
