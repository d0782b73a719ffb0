"""The documentation tells the truth about the configuration and the commands."""

from __future__ import annotations

import re

import click
from helpers import ROOT

from formserver.config import DEFAULTS

README = (ROOT / "README.md").read_text("utf-8")
CONFIGURATION = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
TABLE_KEYS = {key for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|", CONFIGURATION, re.M)
              for key in re.findall(r"[A-Z_]+", row)}
# Flask's and its extensions' own settings, which the app reads but does not define.
FOREIGN_KEYS = {"TESTING", "PREFERRED_URL_SCHEME", "MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE",
                "MAX_FORM_PARTS", "SECRET_KEY",
                "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "RATELIMIT_HEADERS_ENABLED",
                "SESSION_COOKIE_SECURE", "SITE"}


def keys_read_by_the_code() -> set[str]:
    """Every config["KEY"] and config.get("KEY") in formserver/, whatever the variable is called."""
    pattern = re.compile(r"""config(?:\.get\(|\[)["']([A-Z][A-Z0-9_]+)["']""")
    return {key for path in (ROOT / "formserver").rglob("*.py")
            for key in pattern.findall(path.read_text("utf-8"))}


def test_every_configuration_key_is_documented_in_the_readme():
    missing = sorted(set(DEFAULTS) - TABLE_KEYS)
    assert not missing, f"add these keys to README.md's configuration table: {missing}"


def test_the_readme_documents_no_key_that_does_not_exist():
    assert TABLE_KEYS and not sorted(TABLE_KEYS - set(DEFAULTS))


def test_every_key_the_code_reads_has_a_default():
    read = keys_read_by_the_code()
    assert len(read) > 20, "the pattern no longer finds how the code reads its configuration"
    undefined = sorted(read - set(DEFAULTS) - FOREIGN_KEYS)
    assert not undefined, f"give these keys a default in config.DEFAULTS: {undefined}"


def test_every_command_of_the_app_and_its_options_are_in_the_readme(app):
    commands = app.cli.commands  # the app's own group: Flask's run, shell and routes are not in it
    assert commands, "the app registers no commands of its own"
    for name, command in commands.items():
        assert f"flask --app formserver {name}" in README, name
        for param in command.params:
            if isinstance(param, click.Option):
                flags = [flag for flag in param.opts if flag.startswith("--")]
                assert any(flag in README for flag in flags), f"{name} {flags}"


def test_the_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    assert "./scripts/run" in README and "./scripts/test" in README
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_the_privacy_notice_states_the_periods_the_server_keeps():
    """What the notice promises is what the defaults do (change both together)."""
    notice = (ROOT / "content" / "privacy.md").read_text("utf-8")
    retry, failed = DEFAULTS["RETRY_GIVE_UP_DAYS"], DEFAULTS["FAILED_KEEP_DAYS"]
    promises = [f"最多重試 {retry} 日", f"再保留 {failed} 日", f"合共最多 {retry + failed} 日",
                f"後 {DEFAULTS['CASE_KEEP_DAYS']} 日刪除",
                {3600: "一小時後刪除"}[DEFAULTS["DRAFT_MAX_AGE"]],
                {86400: "最多再保留一天"}[DEFAULTS["DRAFT_KEEP_ANSWERS"]]]
    assert [promise for promise in promises if promise not in notice] == []
