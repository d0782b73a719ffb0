"""Configuration: defaults, then instance/config.py, then FORMSERVER_* variables, then tests."""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path

from flask import Flask

from .vocabulary import CATEGORIES, RECIPIENTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
# Requests without files (follow-ups, the status and case pages): text only, far below this.
SMALL_REQUEST = 1 * MB
# Parts of a form: the complaint has about 25 (its fields and 6 files); a request of hundreds of
# parts, each held in memory, would be an attack.
FORM_PARTS = 50
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Every key here is documented in README.md (a test checks that).
DEFAULTS = {
    # Signs sessions and CSRF tokens. Required when SMTP_HOST is set (a real deployment);
    # the embedded default generates one and keeps it in the instance folder.
    "SECRET_KEY": None,
    "SMTP_HOST": "",  # empty: deliver into MAILDIR instead of over SMTP
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_SECURITY": "none",  # none, starttls or ssl
    "SMTP_TIMEOUT": 30,  # seconds per SMTP command
    "MAIL_FROM": "complaints@localhost",
    "OFFICE_EMAIL": "office@localhost",
    "COMMITTEE_EMAIL": "committee@localhost",
    # Routing: per recipient, optionally per category, one or more addresses, e.g.
    # {"office": {"fees": ["accounts@example.org"], "default": ["office@example.org"]}}.
    # Unlisted combinations go to OFFICE_EMAIL or COMMITTEE_EMAIL.
    "ROUTES": {},
    "STAGING_EMAIL": "",  # when set, every message goes here; the intended recipients are in it
    "FOLLOW_UPS_PER_DAY": 2,  # per complaint: follow-ups cannot be used to flood anyone
    "FOLLOW_UPS_TOTAL": 5,
    "SEND_ACKNOWLEDGEMENT": True,  # a short receipt to the resident when they gave an email
    "ACKNOWLEDGEMENTS_PER_DAY": 3,  # per email address and per client
    "SUBMISSION_RATE_LIMIT": "10/hour;30/day",  # per client; Flask-Limiter's notation
    "RATELIMIT_STORAGE_URI": "memory://",  # per process: use redis:// with several workers
    "REGION": "",  # HK, MO, TW or CN: working days and phone numbers; empty: site.toml's region
    "SPOOL_DIR": "",  # default: instance/spool
    "MAILDIR": "",  # default: instance/maildir
    "STATS_DB": "",  # anonymous statistics; default: instance/stats.sqlite
    "DRAFT_DIR": "",  # complaints under review, files and all; default: instance/drafts
    "DRAFT_MAX_AGE": 3600,  # seconds a draft (and its files) waits for "send"
    "DRAFT_KEEP_ANSWERS": 86400,  # seconds an expired draft keeps the typed answers to give back
    "SITE_DIR": str(PROJECT_ROOT / "site"),  # the built site, served when SERVE_SITE is on
    "SITE_CONFIG": str(PROJECT_ROOT / "site.toml"),
    "SERVE_SITE": True,  # off behind nginx, which serves site/ itself
    "DELIVER_IN_PROCESS": True,  # off in production: run `flask --app formserver deliver --loop`
    "DELIVERY_INTERVAL": 5,  # seconds between delivery rounds
    "RETRY_DELAYS": "60,300,900,3600,14400",  # seconds before retry 1, 2, ...; the last repeats
    "RETRY_GIVE_UP_DAYS": 5,  # temporary failures become failures after this long, as MTAs do
    "RETRY_GIVE_UP_ATTEMPTS": 5,  # ... and after at least this many tries (a clock jump is not one)
    "FAILED_KEEP_DAYS": 14,  # failed messages hold personal data: purged after this long
    "MAX_FILES": 6,
    # Sized for phone media: a phone records about 1 MB a second of video. Files that do not
    # fit in the email are linked to the case page (MAIL_MAX_BYTES).
    "MAX_FILE_SIZE": 100 * MB,
    "MAX_TOTAL_SIZE": 200 * MB,
    # The whole request: the files and room for the text. nginx's client_max_body_size for
    # the complaint (deploy/nginx/estate-common.conf) is the same; a test checks both.
    "MAX_CONTENT_LENGTH": 201 * MB,
    # The office's email with its attachments, base64 and all: under Postfix's default
    # message_size_limit (10,240,000 bytes). Files that would go over are linked instead.
    "MAIL_MAX_BYTES": 9 * MB,
    "CASE_FILES_DIR": "",  # every case's evidence files, sealed; default: instance/case-files
    "PREFERRED_URL_SCHEME": "http",  # https behind TLS: session cookies become Secure
    "PROXY_FIX": False,  # behind nginx: trust its X-Forwarded-For/-Proto/-Host (one hop)
    "MIN_FILL_SECONDS": 3,  # a form sent sooner after it was shown is treated as a bot
    # --- the case: the office answers, the resident follows progress (README: the loop) ---
    "CASE_DB": "",  # the case store; default: instance/cases.sqlite
    "CASE_KEEP_DAYS": 90,  # a case is purged this long after its last activity (or closing)
    "CASE_LINK_DAYS": 30,  # the office's case links (and the resident's email links) expire
    "OFFICE_PASSWORD": "",  # when set, a shared office login in front of every case page
    "ESCALATE_AFTER_DAYS": 2,  # working days after a missed due day: the committee is told
    "DIGEST_WEEKDAY": "monday",  # the committee's weekly summary; empty: none
    "STATUS_RATE_LIMIT": "20/hour;50/day",  # /status lookups per client
    "CASE_RATE_LIMIT": "300/hour",  # case page requests per client
}


class ConfigError(RuntimeError):
    """A setting that stops the app at start-up; the message names the key."""


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("FORMSERVER")
    else:
        app.config.from_mapping(test_config)
    instance = Path(app.instance_path)
    app.config["SPOOL_DIR"] = app.config["SPOOL_DIR"] or str(instance / "spool")
    app.config["MAILDIR"] = app.config["MAILDIR"] or str(instance / "maildir")
    app.config["STATS_DB"] = app.config["STATS_DB"] or str(instance / "stats.sqlite")
    app.config["DRAFT_DIR"] = app.config["DRAFT_DIR"] or str(instance / "drafts")
    app.config["CASE_DB"] = app.config["CASE_DB"] or str(instance / "cases.sqlite")
    app.config["CASE_FILES_DIR"] = app.config["CASE_FILES_DIR"] or str(instance / "case-files")
    app.config["SITE"] = read_site_config(Path(app.config["SITE_CONFIG"]))
    app.config["REGION"] = app.config["REGION"] or app.config["SITE"].get("region", "HK")
    check_config(app.config)
    if not app.config["SECRET_KEY"]:
        if app.config["SMTP_HOST"]:
            raise ConfigError("SECRET_KEY is not set: a deployment with SMTP_HOST needs its own; "
                              "set FORMSERVER_SECRET_KEY to a long random value, e.g. from "
                              "`python -c 'import secrets; print(secrets.token_hex(32))'`")
        app.config["SECRET_KEY"] = instance_secret(instance)


def check_config(config) -> None:
    if config["SMTP_SECURITY"] not in ("none", "starttls", "ssl"):
        raise ConfigError(f"SMTP_SECURITY is {config['SMTP_SECURITY']!r}: "
                          "use 'none', 'starttls' or 'ssl'")
    if config["REGION"] not in ("HK", "MO", "TW", "CN"):
        raise ConfigError(f"REGION is {config['REGION']!r}: use HK, MO, TW or CN")
    for key in ("SMTP_PORT", "MAX_FILES", "MAX_FILE_SIZE", "MAX_TOTAL_SIZE", "MAX_CONTENT_LENGTH",
                "RETRY_GIVE_UP_DAYS", "FAILED_KEEP_DAYS", "ACKNOWLEDGEMENTS_PER_DAY",
                "MIN_FILL_SECONDS", "FOLLOW_UPS_PER_DAY", "FOLLOW_UPS_TOTAL", "DRAFT_MAX_AGE",
                "DRAFT_KEEP_ANSWERS", "RETRY_GIVE_UP_ATTEMPTS", "MAIL_MAX_BYTES"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} is {config[key]!r}: it must be a whole number") from None
    try:
        config["RETRY_DELAYS"] = retry_delays(config["RETRY_DELAYS"])
    except ValueError:
        raise ConfigError(f"RETRY_DELAYS is {config['RETRY_DELAYS']!r}: write seconds separated "
                          "by commas, e.g. '60,300,3600'") from None
    for key in ("MAIL_FROM", "OFFICE_EMAIL", "COMMITTEE_EMAIL", "STAGING_EMAIL"):
        if config[key] or key != "STAGING_EMAIL":
            check_address(key, config[key])
    config["ROUTES"] = check_routes(config["ROUTES"])
    check_case_settings(config)
    if config["MAX_CONTENT_LENGTH"] <= config["MAX_TOTAL_SIZE"]:
        raise ConfigError("MAX_CONTENT_LENGTH must be larger than MAX_TOTAL_SIZE "
                          "(the form's text needs room too)")
    if config["MAIL_MAX_BYTES"] < MB:
        raise ConfigError(f"MAIL_MAX_BYTES is {config['MAIL_MAX_BYTES']}: the email needs at "
                          "least 1 MB (1048576), e.g. 9437184 under Postfix's default limit")
    # Text far over its limit is still read (werkzeug's default stops at 500 KB with a 413 that
    # loses every answer): the form says what is too long and keeps the rest. Each text field
    # is held in memory, so it is bounded by the small request's size, not the upload's.
    config["MAX_FORM_MEMORY_SIZE"] = min(config["MAX_CONTENT_LENGTH"], SMALL_REQUEST)
    config["MAX_FORM_PARTS"] = FORM_PARTS


def check_case_settings(config) -> None:
    for key in ("CASE_KEEP_DAYS", "CASE_LINK_DAYS", "ESCALATE_AFTER_DAYS"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} is {config[key]!r}: it must be a whole number") from None
        if config[key] < 1:
            raise ConfigError(f"{key} is {config[key]}: it must be 1 or more")
    weekday = str(config["DIGEST_WEEKDAY"] or "").strip().lower()
    if weekday and weekday not in WEEKDAYS:
        raise ConfigError(f"DIGEST_WEEKDAY is {config['DIGEST_WEEKDAY']!r}: use an English "
                          "weekday such as 'monday', or empty for no digest")
    config["DIGEST_WEEKDAY"] = weekday
    config["OFFICE_PASSWORD"] = str(config["OFFICE_PASSWORD"] or "")


def check_address(key: str, value) -> None:
    local, at, domain = str(value).rpartition("@")
    bad = set(" \t\r\n,;:<>()[]\"\\")
    plausible = local and at and ("." in domain or domain == "localhost")
    if not plausible or bad & set(str(value)):
        raise ConfigError(f"{key} is {value!r}: it must be one plain email address")


def check_routes(routes) -> dict[str, dict[str, tuple[str, ...]]]:
    """ROUTES as {recipient: {category or 'default': (address, ...)}}, checked key by key."""
    if not isinstance(routes, dict):
        raise ConfigError("ROUTES must be a table like "
                          '{"office": {"fees": ["accounts@example.org"]}}')
    checked = {}
    for recipient, by_category in routes.items():
        if recipient not in RECIPIENTS:
            raise ConfigError(f"ROUTES[{recipient!r}]: unknown recipient; "
                              f"use {' or '.join(RECIPIENTS)}")
        if not isinstance(by_category, dict):
            raise ConfigError(f"ROUTES[{recipient!r}] must map categories to addresses")
        checked[recipient] = {}
        for category, addresses in by_category.items():
            key = f"ROUTES[{recipient!r}][{category!r}]"
            if category != "default" and category not in CATEGORIES:
                raise ConfigError(f"{key}: unknown category; use default or "
                                  f"{', '.join(CATEGORIES)}")
            addresses = [addresses] if isinstance(addresses, str) else addresses
            if not isinstance(addresses, list | tuple) or not addresses:
                raise ConfigError(f"{key} must be one address or a list of addresses")
            for address in addresses:
                check_address(key, address)
            checked[recipient][category] = tuple(addresses)
    return checked


def retry_delays(value) -> tuple[int, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    delays = tuple(int(str(item).strip()) for item in items)
    if not delays or min(delays) < 0:
        raise ValueError(value)
    return delays


def instance_secret(instance: Path) -> str:
    """A secret generated once for the embedded default and kept in the instance folder."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            with open(path, "x") as f:  # "x": a second process starting at once keeps the first key
                f.write(key)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return key


# What the form's pages and emails take from site.toml, besides the contacts.
SITE_WORDING = ("deidentification", "deidentification_contact")


def read_site_config(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            site = tomllib.load(f)
    except (FileNotFoundError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"SITE_CONFIG {path}: cannot be read ({error})") from None
    for key in SITE_WORDING:
        if not str(site.get("wording", {}).get(key, "")).strip():
            raise ConfigError(f"SITE_CONFIG {path}: [wording] {key} is missing: the form, the "
                              "privacy notice and the emails share this one wording")
    return site
