from django.apps import AppConfig


class WorksheetsConfig(AppConfig):
    name = "dilemmagesprek.worksheets"
    label = "worksheets"
