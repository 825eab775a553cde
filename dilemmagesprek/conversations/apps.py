from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "dilemmagesprek.conversations"
    label = "conversations"
