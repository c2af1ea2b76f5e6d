"""Celery beat starts against Redis with the project's schedule."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_beat_schedule_lists_the_sweeps():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "cadres.tasks.send_pending_invitations",
        "accompagnement.tasks.send_due_notifications",
        "immersion.tasks.prepare_pending_conventions",
        "mentorat.tasks.remind_silent_relations",
        "mentorat.tasks.send_health_checks",
        "coaching.tasks.remind_expiring_accreditations",
        "cadres.tasks.requeue_stalled_imports",
        "rgpd.tasks.apply_retention",
        "cohortes.tasks.close_finished",
    }


@pytest.mark.worker
def test_beat_starts_against_redis(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: beat needs a broker")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "info",
            "--schedule",
            str(tmp_path / "schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        output = ""
        while time.monotonic() < deadline and "beat: Starting" not in output:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        assert "beat: Starting" in output, output
        assert f"broker -> {settings.REDIS_URL.split('://')[0]}://" in output, output
        time.sleep(2)
        assert process.poll() is None, "beat stopped right after starting"
    finally:
        process.terminate()
        process.wait(timeout=10)
