"""Production settings pass Django's deployment checklist, and half-configured ones refuse
to start with a message that says what is missing."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_KEY = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(60))
HOST = "exchange.example.org"

# Each case: the environment on top of DEBUG=false, and the manage.py arguments.
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "deploy": (
        {"SECRET_KEY": SECRET_KEY, "ALLOWED_HOSTS": HOST},
        ["check", "--deploy", "--fail-level", "WARNING"],
    ),
    "no-secret-key": ({"ALLOWED_HOSTS": HOST}, ["check"]),
    "short-secret-key": ({"SECRET_KEY": "x" * 49, "ALLOWED_HOSTS": HOST}, ["check"]),
    "no-allowed-hosts": ({"SECRET_KEY": SECRET_KEY}, ["check"]),
}
# The runs start from a bare environment: nothing the test process (or another test,
# such as the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE) has set may reach them.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str]]]:
    """Run every case at once (each is a fresh interpreter): exit code and all output."""
    base = {key: os.environ[key] for key in INHERITED if key in os.environ}
    processes = {}
    for name, (extra, arguments) in CASES.items():
        env = {
            **base,
            "DEBUG": "false",
            "PYTHONPATH": str(PROJECT_DIR / "src"),
            # Keep the SQLite file of these runs out of the project's var/ directory.
            "MEDEXCHANGE_VAR_DIR": str(tmp_path_factory.mktemp(name)),
            **extra,
        }
        processes[name] = subprocess.Popen(
            [sys.executable, "manage.py", *arguments],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    results = {}
    for name, process in processes.items():
        output, _ = process.communicate(timeout=120)
        results[name] = (process.returncode, output)
    yield results


def test_production_settings_pass_the_deployment_checklist(
    runs: dict[str, tuple[int, str]],
) -> None:
    returncode, output = runs["deploy"]
    assert returncode == 0, output
    assert "WARNING" not in output, output
    assert "?:" not in output, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no-secret-key", "needs SECRET_KEY"),
        ("short-secret-key", "at least 50 characters"),
        ("no-allowed-hosts", "needs ALLOWED_HOSTS"),
    ],
)
def test_half_configured_production_refuses_to_start(
    runs: dict[str, tuple[int, str]], case: str, message: str
) -> None:
    returncode, output = runs[case]
    assert returncode != 0, output
    assert "ImproperlyConfigured" in output, output
    assert message in output, output
