"""Back-office views of match cycles: read-only, since every change goes through services.

Rankings, runs and releases are audited and notified by ``services``; an admin edit would
bypass both (and the seat locking of a release). Staff read here and act on the site.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from medexchange.matching.models import MatchCycle, MatchRun, Ranking


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MatchCycle)
class MatchCycleAdmin(ReadOnlyAdmin):
    list_display = ["name", "network", "host", "status", "binding", "ranking_closes_at"]
    list_filter = ["status", "binding"]
    search_fields = ["name"]
    list_select_related = ["network", "host"]


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "cycle", "kind", "status", "progress", "engine_version", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["cycle"]
    exclude = ["instance_json", "result_json", "key"]


@admin.register(Ranking)
class RankingAdmin(ReadOnlyAdmin):
    list_display = ["cycle", "side", "application", "position"]
    list_filter = ["side"]
    list_select_related = ["cycle", "application"]
