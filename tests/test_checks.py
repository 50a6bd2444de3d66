import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from channels_app.checks import check_production_settings

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "ALLOWED_HOSTS")}
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 30 + "-production-secret-key-with-enough-entropy-1234567890",
        ALLOWED_HOSTS="chat.example.com",
        CSRF_TRUSTED_ORIGINS="https://chat.example.com",
    )
    env.update(extra)
    return env


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_reports_nothing_with_production_settings() -> None:
    result = run_deploy_check(production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_refuses_a_wildcard_host() -> None:
    result = run_deploy_check(production_env(ALLOWED_HOSTS="*"))
    assert result.returncode != 0
    assert "channels_app.E001" in result.stdout + result.stderr


def test_deploy_check_refuses_an_unbounded_websocket_frame(settings: Any) -> None:
    settings.CHAT_WS_MAX_FRAME_BYTES = 0
    assert [error.id for error in check_production_settings()] == ["channels_app.E002"]
    settings.CHAT_WS_MAX_FRAME_BYTES = 64 * 1024
    assert check_production_settings() == []
