from django.conf import settings
from django.core.checks import Error, register


@register("realtime")
def check_workers_share_a_layer(app_configs=None, **kwargs) -> list[Error]:
    """Several workers need Redis: each process's own hub cannot reach the others' sockets."""
    if settings.WORKERS > 1 and not settings.REDIS_URL:
        return [
            Error(
                f"WORKERS={settings.WORKERS} but REDIS_URL is not set.",
                hint="Live updates would reach only the sockets of the worker that made the "
                "change. Set REDIS_URL, or run one worker.",
                id="realtime.E001",
            )
        ]
    return []
