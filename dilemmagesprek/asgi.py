"""ASGI entry point: HTTP through Django; the live socket joins here in the realtime app."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

application = ProtocolTypeRouter({"http": django_application})
