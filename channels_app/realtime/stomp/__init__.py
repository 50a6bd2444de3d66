"""StompX: the wire protocol of ChatKitty's JavaScript SDK (`@chatkitty/core`), STOMP 1.2 over
WebSocket at `/rtm/websocket`. See `consumer.py` and the README section
"ChatKitty JavaScript SDK compatibility"."""
