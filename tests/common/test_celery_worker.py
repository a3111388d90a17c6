"""Background e-mail through a real Celery worker on the local Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medexchange.common.tasks import send_templated_email

PROJECT_DIR = Path(__file__).resolve().parents[2]
REDIS = ("127.0.0.1", 6379)
BROKER_URL = "redis://127.0.0.1:6379/11"

pytestmark = pytest.mark.redis


def redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def real_broker() -> object:
    if not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail("CI needs the local Redis on 127.0.0.1:6379 for the worker test")
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    from medexchange.celery import app

    redis.Redis(host=REDIS[0], port=REDIS[1], db=11).flushdb()
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = BROKER_URL
    app.conf.task_always_eager = False
    yield app
    app.conf.broker_url, app.conf.task_always_eager = previous


def test_a_real_worker_sends_the_queued_email(real_broker: object, tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "PYTHONPATH": str(PROJECT_DIR / "src"),
        "CELERY_BROKER_URL": BROKER_URL,
        "EMAIL_URL": f"filemail://{mail_dir}",
        "MEDEXCHANGE_VAR_DIR": str(tmp_path / "var"),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "medexchange",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # An explicit connection: the app's producer pool may predate the broker override.
        with real_broker.connection_for_write(BROKER_URL) as connection:  # type: ignore[attr-defined]
            send_templated_email.apply_async(
                kwargs={
                    "to": ["coordinator@example.org"],
                    "template": "accounts/email/invitation",
                    "context": {
                        "institution_name": "Fictional Worker Hospital",
                        "role": "Coordinator",
                        "invited_by": "",
                        "invitation_path": "/accounts/invitations/abc/",
                    },
                    "language": "en",
                },
                connection=connection,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(mail_dir.iterdir()):
            time.sleep(0.2)
        sent = list(mail_dir.iterdir())
        if not sent:
            worker.terminate()
            output = worker.communicate(timeout=20)[0]
            pytest.fail(f"the worker sent no e-mail within 60 s:\n{output[-3000:]}")
        message = sent[0].read_text()
        assert "To: coordinator@example.org" in message
        assert "Fictional Worker Hospital" in message
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if worker.stdout:
            worker.stdout.close()
