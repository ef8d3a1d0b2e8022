"""The console in a real browser: Debian's chromium driven by Playwright
(``executable_path``, no browser download), headless.

``console(*services)`` starts the platform (``partner_center``), the
platform's operator, and the console in this process (an eventlet WSGI server
on a free port, as ``python -m console`` runs it) pointed at that gateway.
``site.play("story_name")`` runs that story of ``browser/stories.py`` in a
plain Python process (``python -m browser.stories``) and fails with its
output when the story fails.

Why another process: the platform runs on this process's eventlet hub, and
Playwright's sync API driven from the same process now and then left the hub
without a wake-up (argon2 hashing in eventlet's tpool), so a page waited for
ever. The story process has no eventlet at all; it reaches the console and
the gateway over HTTP, like any browser and client.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import eventlet
import pytest
from eventlet import wsgi
from eventlet.green import subprocess

from console.web import Console
from support.api import Platform

CHROMIUM = os.environ.get("PC_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
STORY_SECONDS = 400  # a ceiling for a machine shared by many; the stories take 20-60 s when it is idle


@dataclass
class ConsoleSite:
    url: str
    pc: Platform

    def play(self, story: str, **extra) -> None:
        setting = {
            "console_url": self.url,
            "gateway_url": self.pc.url,
            "operator_login": self.pc.operator().login_id,
            "dev_key_file": self.pc.dev_key_file,
            **extra,
        }
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("libs", "services", "tests"))}
        module, _, story = story.rpartition(".")  # "commerce_stories.cafe_story": another module's story
        process = subprocess.Popen(
            [sys.executable, "-m", f"browser.{module or 'stories'}", story, json.dumps(setting)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(REPO),
        )
        deadline = time.monotonic() + STORY_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            eventlet.sleep(0.1)  # the platform keeps serving on this hub meanwhile
        if process.poll() is None:
            process.kill()
        output = process.stdout.read().decode("utf-8", "replace")
        assert process.wait() == 0, f"story {story} failed:\n{output[-6000:]}"


@pytest.fixture
def console(partner_center):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-nanum)")
    servers = []

    def start(*services: str, **platform_options) -> ConsoleSite:
        pc = partner_center(*services, **platform_options)
        sock = eventlet.listen(("127.0.0.1", 0))
        servers.append(eventlet.spawn(wsgi.server, sock, Console(pc.url), log_output=False))
        return ConsoleSite(f"http://127.0.0.1:{sock.getsockname()[1]}", pc)

    yield start
    for server in servers:
        server.kill()
