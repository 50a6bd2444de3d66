"""The project's settings (same middleware, database and server), with the floor's URLconf."""

from chatkitty_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
