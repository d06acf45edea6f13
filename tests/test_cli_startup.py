"""`crosspromo --help` starts without importing the sub-commands (bench/cli_startup.py times it).

Cashiers' scripts call the CLI: each sub-command's module, with its database layer and its
statistics libraries, is imported only when that sub-command runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from crosspromo import cli

SRC = str(Path(cli.__file__).resolve().parents[1])
PROBE = """
import json, sys
sys.argv = ["crosspromo", *ARGS]
from crosspromo.cli import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = ("sqlalchemy", "fastapi", "pydantic", "numpy", "statsmodels", "scipy", "pandas")


def _imported(*args: str) -> tuple[str, set[str]]:
    env = os.environ | {"PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("ARGS", repr(list(args)))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_imports_no_sub_command_and_no_database_layer() -> None:
    shown, modules = _imported("--help")
    for name in cli.LAZY:
        assert name in shown
    assert {m for m in modules if m.startswith("crosspromo")} == {"crosspromo", "crosspromo.cli"}
    assert not {m.split(".")[0] for m in modules} & set(HEAVY)


def test_a_sub_command_imports_its_own_module_only() -> None:
    _, modules = _imported("outbox", "--help")
    assert "crosspromo.outbox.cli" in modules
    assert "crosspromo.demo.cli" not in modules and "statsmodels" not in modules


@pytest.mark.parametrize("name", sorted(cli.LAZY))
def test_the_listed_help_is_the_sub_commands_own(name: str) -> None:
    command = cli.load(name)
    assert isinstance(command, (TyperCommand, TyperGroup))
    assert (command.help or "").split("\n\n")[0].strip() == cli.LAZY[name][1]


def test_a_lazy_group_runs_and_unknown_commands_are_refused() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli.app, ["campaigns", "--help"])
    assert shown.exit_code == 0 and "report" in shown.output and "audience" in shown.output
    again = runner.invoke(cli.app, ["campaigns", "--help"])
    assert again.output.count("audience") == shown.output.count("audience")
    assert runner.invoke(cli.app, ["no-such-command"]).exit_code != 0
