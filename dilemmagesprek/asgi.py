"""ASGI entry point: HTTP through Django, the conversation socket through Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before the consumers (and their models) are imported.
django_application = get_asgi_application()

from channels.auth import AuthMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from dilemmagesprek.ops.inflight import BoundedRequests  # noqa: E402
from dilemmagesprek.ops.lifespan import lifespan  # noqa: E402
from dilemmagesprek.realtime.origin import SameOriginValidator  # noqa: E402
from dilemmagesprek.realtime.routing import websocket_urlpatterns  # noqa: E402
from dilemmagesprek.realtime.sessions import SocketSessionMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BoundedRequests(
            django_application, settings.REQUESTS_IN_FLIGHT, settings.REQUESTS_WAITING
        ),
        # Channels' AuthMiddlewareStack, with a session that does not wrap every frame sent.
        "websocket": SameOriginValidator(
            CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(URLRouter(websocket_urlpatterns))))
        ),
        "lifespan": lifespan,
    }
)

# What start-up imported lives as long as the process. Taking it out of the collector's view
# keeps full collections short: over the whole import-time heap they paused every socket of
# the process for tens of milliseconds under load (docs/performance.md).
gc.freeze()
