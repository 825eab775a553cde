from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dilemmagesprek.accounts"
    label = "accounts"
    verbose_name = "Accounts"
