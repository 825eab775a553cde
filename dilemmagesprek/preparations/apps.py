from django.apps import AppConfig


class PreparationsConfig(AppConfig):
    name = "dilemmagesprek.preparations"
    label = "preparations"
