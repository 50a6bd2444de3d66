from channels.routing import URLRouter

websocket_urlpatterns: list = []  # type: ignore[type-arg]

websocket_application = URLRouter(websocket_urlpatterns)
