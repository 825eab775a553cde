"""`dilemmagesprek check --deploy` is clean with production settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "WORKERS", "DEBUG")}
    env.update(
        DILEMMAGESPREK_DATA_DIR=str(tmp_path),
        HTTPS="true",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="dilemma.example.nl",
        SITE_URL="https://dilemma.example.nl",
        SECURITY_CONTACTS="mailto:cert@example.nl",
    )
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "dilemmagesprek.cli", "check", "--deploy", "--fail-level",
         "WARNING"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_the_deploy_check_is_clean_in_production(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_wants_a_real_security_contact(tmp_path):
    result = run_check(tmp_path, SECURITY_CONTACTS="mailto:security@example.invalid")
    assert result.returncode != 0
    assert "dilemmagesprek.W001" in result.stdout + result.stderr


def test_several_workers_without_redis_are_refused(tmp_path):
    result = run_check(tmp_path, WORKERS="2")
    assert result.returncode != 0
    assert "realtime.E001" in result.stdout + result.stderr
