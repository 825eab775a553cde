from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dilemmagesprek.audit"
    label = "audit"
