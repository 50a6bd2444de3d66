from channels.routing import URLRouter
from django.urls import URLPattern, path

from .consumers import ChatConsumer
from .stomp.consumer import StompConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/v1/chat", ChatConsumer.as_asgi()),
    # ChatKitty JavaScript SDK (StompX: STOMP 1.2 over WebSocket), `?api-key=` in the query.
    path("rtm/websocket", StompConsumer.as_asgi()),
]

websocket_application = URLRouter(websocket_urlpatterns)
