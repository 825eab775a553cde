from django.apps import AppConfig


class ThrottleConfig(AppConfig):
    name = "dilemmagesprek.throttle"
    label = "throttle"
