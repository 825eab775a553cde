"""ASGI entry point: HTTP through Django, the conversation socket through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before the consumers (and their models) are imported.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from dilemmagesprek.realtime.origin import SameOriginValidator  # noqa: E402
from dilemmagesprek.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
