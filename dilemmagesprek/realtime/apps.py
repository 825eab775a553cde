from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "dilemmagesprek.realtime"
    label = "realtime"

    def ready(self) -> None:
        from dilemmagesprek.conversations import events

        from . import checks  # noqa: F401 - registers the system checks
        from .delivery import deliver_event

        if deliver_event not in events.subscribers:
            events.subscribers.append(deliver_event)
