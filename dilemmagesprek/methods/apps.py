from django.apps import AppConfig


class MethodsConfig(AppConfig):
    name = "dilemmagesprek.methods"
    label = "methods"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_method_files, check_woo_reference

        # Tagged so that `check --tag methods` runs only this; untagged runs include it too.
        checks.register(check_method_files, "methods")
        checks.register(check_woo_reference, "methods")
