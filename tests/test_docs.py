"""The documentation tells the truth about the configuration and the commands."""

from __future__ import annotations

import re

from helpers import ROOT

from formserver.config import DEFAULTS

README = (ROOT / "README.md").read_text("utf-8")
CONFIGURATION = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
TABLE_KEYS = {key for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|", CONFIGURATION, re.M)
              for key in re.findall(r"[A-Z_]+", row)}


def test_every_configuration_key_is_documented_in_the_readme():
    missing = sorted(set(DEFAULTS) - TABLE_KEYS)
    assert not missing, f"add these keys to README.md's configuration table: {missing}"


def test_the_readme_documents_no_key_that_does_not_exist():
    assert TABLE_KEYS and not sorted(TABLE_KEYS - set(DEFAULTS))


def test_every_cli_command_is_in_the_readme(app):
    for name in ("deliver", "spool", "purge", "stats"):
        assert name in app.cli.commands
        assert f"flask --app formserver {name}" in README


def test_the_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    assert "./scripts/run" in README and "./scripts/test" in README
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()
