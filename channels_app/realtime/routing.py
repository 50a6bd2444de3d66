from channels.routing import URLRouter
from django.urls import path

from .consumers import ChatConsumer

websocket_urlpatterns: list = [  # type: ignore[type-arg]
    path("ws/v1/chat", ChatConsumer.as_asgi()),
]

websocket_application = URLRouter(websocket_urlpatterns)
