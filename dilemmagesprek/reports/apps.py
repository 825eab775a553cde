import logging

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "dilemmagesprek.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # WeasyPrint logs every rendering step (and its own stylesheets at import) at INFO:
        # one export is not worth ten log lines. Warnings still come through.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
