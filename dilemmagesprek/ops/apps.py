from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the service: the `serve` command and whatever else operators need."""

    name = "dilemmagesprek.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from dilemmagesprek.conversations import events

        from . import checks  # noqa: F401 - registers the deployment checks
        from .metrics import count_broadcast

        if count_broadcast not in events.subscribers:
            events.subscribers.append(count_broadcast)
