"""Accepting a complaint: its email on disk in the spool first, then the resident's receipt.
Nothing is sent from here; the deliverer sends what the spool holds."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from flask import current_app

from . import access, case_files, delivery, handling, spool, stats
from .complaint import Complaint
from .messages import build_acknowledgement, build_message
from .ratelimit import may_acknowledge
from .sealed import Unreadable

log = logging.getLogger(__name__)


class NotSaved(Exception):
    """The spool could not take the submission: nothing was saved (503)."""


def submit(complaint: Complaint, resident_email: str = "", access_code: str = "",
           edition: str = "hant") -> bool:
    """Keep the files with the case, spool the office's email (with its case link and the
    files' download links), open the case, then spool the resident's receipt (with the access
    code, in the resident's script); return whether a receipt goes.
    Raises NotSaved when the complaint could not be put on disk."""
    config = current_app.config
    spool_dir = Path(config["SPOOL_DIR"])
    link = access.new_link(config, complaint.submitted_at)
    keep_files(complaint, config)
    message = build_message(complaint, config, case_url=link.url,
                            file_urls=[access.file_url(link.token, number, config)
                                       for number in range(1, len(complaint.evidence) + 1)])
    try:
        spool.spool_message(spool_dir, complaint.reference, message.chunks())
    except (OSError, Unreadable) as error:
        log.error("could not spool %s: %s", complaint.reference, describe(error))
        case_files.delete(Path(config["CASE_FILES_DIR"]), [complaint.reference])
        raise NotSaved from None
    try:
        stats.remember_reference(Path(config["STATS_DB"]), complaint.reference,
                                 config["SECRET_KEY"], complaint.submitted_at.date().isoformat())
    except (sqlite3.Error, OSError) as error:  # the complaint is safe; follow-ups just can't
        log.warning("could not remember %s: %s", complaint.reference, type(error).__name__)
    # A broken store is logged: the complaint is safe in the spool.
    handling.open_case(complaint, access_code=access_code, resident_email=resident_email,
                       link=link, config=config, edition=edition)
    log.info("accepted %s (%s, %s, %d files, anonymized=%s)", complaint.reference,
             complaint.category, complaint.recipient, len(complaint.evidence),
             complaint.anonymized)
    acknowledged = False
    if resident_email and config["SEND_ACKNOWLEDGEMENT"] and may_acknowledge(resident_email):
        receipt = build_acknowledgement(complaint, resident_email, config, access_code,
                                        edition=edition)
        try:
            spool.spool_message(spool_dir, f"{complaint.reference}.ack", receipt.as_bytes())
            acknowledged = True
        except OSError as error:  # the complaint itself is safe; only the receipt is lost
            log.error("could not spool the receipt for %s: %s", complaint.reference,
                      error.strerror)
    delivery.wake(current_app)
    return acknowledged


def keep_files(complaint: Complaint, config) -> None:
    """Every file goes with the case first (the email links those it cannot carry); raises
    NotSaved when they cannot be kept."""
    if not complaint.evidence:
        return
    try:
        case_files.store(Path(config["CASE_FILES_DIR"]), complaint.reference,
                         complaint.evidence, config["SECRET_KEY"])
    except (OSError, Unreadable) as error:  # a full disk; a draft's file altered on disk
        log.error("could not keep the files of %s: %s", complaint.reference, describe(error))
        raise NotSaved from None


def describe(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
