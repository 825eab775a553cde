from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the service: the `serve` command and whatever else operators need."""

    name = "dilemmagesprek.ops"
    label = "ops"
    verbose_name = "Operations"
