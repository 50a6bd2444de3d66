"""HTTP and websockets in one ASGI application, served by uvicorn."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatkitty_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from channels_app.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})

# Everything imported so far lives as long as the process: move it out of the collector's reach.
# A full (generation 2) collection otherwise walks every module, model and URL pattern, a 50 ms
# pause that lands on whatever fan-out is in flight (bench/stomp_fanout.py saw p99 jump from 15 to
# 45 ms); frozen, it walks only what requests create. Collect first: garbage frozen is never freed.
gc.collect()
gc.freeze()
