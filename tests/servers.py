"""Real ASGI server processes for tests that need HTTP and websockets from outside pytest."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
