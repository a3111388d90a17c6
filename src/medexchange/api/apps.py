from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "medexchange.api"
    verbose_name = "API"
