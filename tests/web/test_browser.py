"""The web pages in Debian's Chromium, driven by Playwright, against a real uvicorn server.

The server runs as a subprocess on a free port with its own SQLite file (migrated and seeded
through management commands), so it works the same whether the suite runs on SQLite or
PostgreSQL; with REDIS_URL set it uses the Redis channel layer under its own prefix. People act
only through the pages, in separate browser contexts (separate cookie jars).
"""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from ..servers import launch_chromium, uvicorn_server

pytestmark = pytest.mark.browser


PASSWORD = "browser-test-password"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
LIVE = 2_000  # ms: how soon live updates must show

# Records the page's websockets, and lets a test refuse new ones (to simulate an outage).
SOCKET_HOOK = """
(() => {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.__frames = [];
  window.__blockSockets = false;
  function Hooked(url, protocols) {
    const target = window.__blockSockets ? String(url).replace('/ws/v1/chat', '/ws/blocked') : url;
    const ws = protocols === undefined ? new Real(target) : new Real(target, protocols);
    window.__sockets.push(ws);
    ws.addEventListener('message', (event) => window.__frames.push(String(event.data)));
    const realSend = ws.send.bind(ws);
    ws.send = (data) => { window.__frames.push('OUT ' + String(data)); realSend(data); };
    return ws;
  }
  Hooked.prototype = Real.prototype;
  for (const key of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Hooked[key] = Real[key];
  window.WebSocket = Hooked;
})();
"""


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("web-browser")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'chat.sqlite3'}",
        "CHANNEL_LAYER_PREFIX": f"webbrowser{os.getpid()}",
        "DEBUG": "1",
        "TASK_BACKEND": "immediate",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PASSWORD": PASSWORD,
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    application = json.loads(manage(env, "create_application", "Browser test"))
    env["WEB_APPLICATION_ID"] = str(application["id"])
    for name, display in [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]:
        manage(env, "create_account", name, "--display-name", display, "--password-env", "PASSWORD")
    with uvicorn_server(env, workdir / "uvicorn.log", ready_path="/login", timeout=30) as base:
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with launch_chromium() as browser:
        yield browser


class Person:
    """One person in their own browser context, watching for anything that executes."""

    def __init__(self, chromium: Browser, base: str, name: str) -> None:
        self.base = base
        self.context: BrowserContext = chromium.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(SOCKET_HOOK)
        self.dialogs: list[str] = []
        self.csp_violations: list[str] = []
        self.page = self.open_page()
        self.page.goto(f"{base}/login")
        self.page.get_by_label("Username").fill(name)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page).to_have_url(f"{base}/")

    def open_page(self) -> Page:
        page = self.context.new_page()
        page.on("dialog", self.on_dialog)
        page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str) -> Page:
        self.page.goto(f"{self.base}{path}")
        expect(self.page.locator("#live-status")).to_have_text("Live", timeout=5_000)
        return self.page

    def row(self, text: str) -> Any:
        return self.page.locator("#channel-rows li.channel-row", has_text=text)

    def send(self, text: str) -> None:
        box = self.page.get_by_label("Message", exact=True)
        box.fill(text)
        box.press("Enter")

    def check_nothing_executed(self) -> None:
        assert self.dialogs == []
        assert self.page.evaluate("window.__xss") is None
        assert self.csp_violations == []


@pytest.fixture
def people(chromium: Browser, server: str) -> Iterator[dict[str, Person]]:
    crowd: dict[str, Person] = {}

    def make(name: str) -> Person:
        crowd[name] = Person(chromium, server, name)
        return crowd[name]

    yield make  # type: ignore[misc]
    for person in crowd.values():
        person.check_nothing_executed()
        person.context.close()


def channel_id_of(page: Page) -> int:
    match = re.search(r"/channels/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def wait_until(page: Page, expression: str, timeout: float = LIVE / 1000) -> None:
    """Poll a JavaScript expression (`wait_for_function` evaluates strings, which the CSP
    forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
        page.screenshot(path=str(ARTIFACTS / f"web-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_two_people_chat_live(people: Any) -> None:
    alice, bob = people("alice"), people("bob")

    # A creates a PUBLIC channel (with markup in its display name that must stay text).
    page = alice.goto("/channels/new")
    page.get_by_label("Public: anyone here can find and join it").check()
    page.get_by_label("Name", exact=True).fill("lobby")
    page.get_by_label("Display name").fill('Lobby <img src=x onerror="window.__xss=1">')
    page.get_by_role("button", name="Create").click()
    expect(page.locator("h1")).to_contain_text('Lobby <img src=x onerror="window.__xss=1">')
    channel_id = channel_id_of(page)
    expect(page.locator("#live-status")).to_have_text("Live", timeout=5_000)

    # B browses, joins, and A sees B join live.
    bob_page = bob.goto("/?tab=browse")
    bob.row("Lobby").get_by_role("link").click()
    bob_page.get_by_role("button", name="Join").click()
    expect(bob_page.locator(".flash")).to_contain_text("You joined")
    expect(page.locator("#members")).to_contain_text("Bob", timeout=LIVE)

    # A watches the list; B sends; the preview shows within 2 s and A's badge goes up.
    alice.goto("/")
    row = alice.row("Lobby")
    expect(row.locator(".badge")).to_be_hidden()
    expect(bob_page.locator("#live-status")).to_have_text("Live", timeout=5_000)
    bob.send('hello <script>window.__xss=1</script> <b onmouseover="alert(1)">there</b>')
    expect(row.locator(".preview-body")).to_contain_text("hello <script>", timeout=LIVE)
    expect(row.locator(".badge")).to_have_text("1 unread", timeout=LIVE)
    expect(page.locator("#total-unread")).to_have_text("1 unread")
    screenshot(page, "list")

    # A opens the channel: the message is there and the badge clears.
    row.get_by_role("link").click()
    expect(page.locator("#messages")).to_contain_text("hello <script>window.__xss=1</script>")
    expect(page.locator("#total-unread")).to_be_hidden()
    expect(page.locator("#live-status")).to_have_text("Live", timeout=5_000)

    # Live in the channel: typing indicator, Shift+Enter newline, message within 2 s.
    box = bob_page.get_by_label("Message", exact=True)
    box.press_sequentially("line one")
    expect(page.locator("#typing")).to_have_text("Bob is typing…", timeout=LIVE)
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    box.press("Enter")
    last = page.locator("#messages li.message").last
    expect(last.locator(".message-body")).to_have_text("line one\nline two", timeout=LIVE)
    expect(page.locator("#typing")).to_have_text("")
    expect(box).to_have_value("")
    # The open page reads what arrives: the server echoes the read receipt.
    wait_until(page, 'window.__frames.some((f) => f.includes(\'"type":"channel.read"\'))')
    screenshot(page, "channel")

    # The list shows no unread for it now.
    alice.goto("/")
    expect(alice.row("Lobby").locator(".badge")).to_be_hidden()
    assert channel_id > 0


def test_direct_and_private_channels(people: Any) -> None:
    alice, bob, carol = people("alice"), people("bob"), people("carol")
    bob_list = bob.goto("/")

    # A DIRECT channel: it appears live in B's list, and A's message raises B's badge.
    page = alice.goto("/channels/new")
    page.get_by_label("Direct: a conversation with 1 to 9 people").check()
    expect(page.get_by_label("Name", exact=True)).to_be_hidden()
    page.get_by_label("People", exact=True).fill("bob")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("h1")).to_contain_text("Bob")
    expect(page.locator("#live-status")).to_have_text("Live", timeout=5_000)
    direct_row = bob.row("Alice")
    expect(direct_row).to_be_visible(timeout=LIVE)
    alice.send("psst")
    expect(direct_row.locator(".badge")).to_have_text("1 unread", timeout=LIVE)
    expect(bob_list.locator("#total-unread")).to_have_text("1 unread")

    # A PRIVATE channel: A adds B (it appears in B's list); C can neither see nor open it.
    page = alice.goto("/channels/new")
    page.get_by_label("Private: only the people you add").check()
    page.get_by_label("Name", exact=True).fill("secret-plans")
    page.get_by_label("Display name").fill("Secret plans")
    page.get_by_role("button", name="Create").click()
    private_id = channel_id_of(page)
    page.get_by_label("Add someone").fill("bob")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Added Bob")
    expect(bob.row("Secret plans")).to_be_visible(timeout=LIVE)

    carol_page = carol.goto("/?tab=browse")
    expect(carol_page.locator("#channel-rows")).not_to_contain_text("Secret plans")
    response = carol_page.goto(f"{carol.base}/channels/{private_id}")
    assert response is not None and response.status == 404
    expect(carol_page.locator("body")).to_contain_text(
        "does not exist any more, or you cannot see it"
    )
    expect(carol_page.locator("body")).not_to_contain_text("Secret plans")

    # Bad input on the form shows next to the field, in the browser too.
    page = alice.goto("/channels/new")
    page.get_by_label("Public: anyone here can find and join it").check()
    page.get_by_label("Name", exact=True).fill("secret-plans")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#id_name_error")).to_contain_text("already exists")


def test_a_dropped_connection_reconnects_and_fills_the_gap(people: Any) -> None:
    alice, bob = people("alice"), people("bob")
    page = alice.goto("/channels/new")
    page.get_by_label("Public: anyone here can find and join it").check()
    page.get_by_label("Name", exact=True).fill("resilient")
    page.get_by_role("button", name="Create").click()
    channel_id = channel_id_of(page)
    expect(page.locator("#live-status")).to_have_text("Live", timeout=5_000)
    bob_page = bob.goto(f"/channels/{channel_id}")
    bob_page.get_by_role("button", name="Join").click()
    expect(page.locator("#members")).to_contain_text("Bob", timeout=LIVE)
    expect(bob_page.locator("#live-status")).to_have_text("Live", timeout=5_000)

    # Drop A's connection and keep it down while B writes.
    page.evaluate("window.__blockSockets = true; window.__sockets.forEach((s) => s.close());")
    expect(page.locator("#live-status")).to_have_text("Reconnecting…", timeout=LIVE)
    bob.send("missed one")
    bob.send("missed two")
    expect(bob_page.locator("#messages")).to_contain_text("missed two", timeout=LIVE)
    expect(page.locator("#messages")).not_to_contain_text("missed one")

    # Back online: the page resumes from its last sequence and shows both, in order, once.
    page.evaluate("window.__blockSockets = false")
    expect(page.locator("#live-status")).to_have_text("Live", timeout=15_000)
    bodies = page.locator("#messages li.message .message-body")
    expect(bodies).to_have_text(["missed one", "missed two"], timeout=LIVE)


def test_reading_and_posting_work_without_javascript(chromium: Browser, server: str) -> None:
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server}/channels/new")
    page.get_by_label("Public: anyone here can find and join it").check()
    page.get_by_label("Name", exact=True).fill("no-js")
    page.get_by_role("button", name="Create").click()
    box = page.get_by_label("Message", exact=True)
    box.fill("")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#composer-errors")).to_contain_text("Write a message first.")
    page.get_by_label("Message", exact=True).fill("plain old form post")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#messages")).to_contain_text("plain old form post")
    context.close()
