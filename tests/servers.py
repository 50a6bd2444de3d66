"""Real processes for tests that need them: the ASGI server (HTTP and websockets from outside
pytest) and Debian's Chromium, driven by Playwright."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(env: dict[str, str], log_path: Path, *, ready_path: str = "/v1/schema",
                   timeout: float = 60) -> Iterator[str]:  # fmt: skip
    """Serve the project with uvicorn on a free port until the block ends; yields the base URL.
    Ready once `ready_path` answers; the server's log is in `log_path` (shown if it dies)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "chatkitty_site.asgi:application",
             "--host", "127.0.0.1", "--port", str(port),
             "--ws", "websockets-sansio", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{base}{ready_path}", timeout=2):
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def chromium_executable() -> str:
    """Debian's Chromium (`CHROMIUM_PATH` overrides); the calling test is skipped without it."""
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.skip(f"Chromium not found at {executable} (apt-get install chromium)")
    return executable


@contextmanager
def launch_chromium(executable: str | None = None) -> Iterator["Browser"]:
    """Headless Chromium until the block ends. Playwright's sync API keeps an event loop in this
    thread while it runs, so the ORM (async-unsafe) is only used before and after this block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable or chromium_executable(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
