"""ASGI application of the fan-out floor (`bench/floor_ws.py`), served only by the benchmark:
`uvicorn bench.asgi_floor:application`."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatkitty_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.floor_ws import FloorConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([path("ws/floor", FloorConsumer.as_asgi())]),
    }
)
