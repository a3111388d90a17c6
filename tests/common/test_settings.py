"""Production mode refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL"}
    }
    environment.update(env, PYTHONPATH=str(PROJECT_DIR / "src"))
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_needs_a_secret_key() -> None:
    result = run_check(DEBUG="false", ALLOWED_HOSTS="exchange.example.org")
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr


def test_production_needs_allowed_hosts() -> None:
    result = run_check(DEBUG="false", SECRET_KEY="k3y-" + "abcdefghij" * 6)
    assert result.returncode != 0
    assert "needs ALLOWED_HOSTS" in result.stderr


def test_development_needs_nothing() -> None:
    result = run_check()
    assert result.returncode == 0, result.stderr


def test_production_refuses_a_guessable_secret_key() -> None:
    result = run_check(DEBUG="false", SECRET_KEY="x" * 64, ALLOWED_HOSTS="exchange.example.org")
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr
