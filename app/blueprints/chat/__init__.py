"""Course chat rooms (`/chat/courses/<id>`, socket `/ws/chat/<id>`) and direct messages
(`/chat/messages`). Pages work without JavaScript; with it, htmx's `ws` and `sse`
extensions swap the same templates' blocks live."""
from flask import Blueprint

bp = Blueprint("chat", __name__)

from app.blueprints.chat import direct, origin, room_socket, rooms, socket_auth  # noqa: E402,F401
