"""The public fund pages and the finance reports, under /funding/<network>/….

Included LAST from ``funding/urls.py``: ``<slug:fund>`` would otherwise catch the fixed
words of the other funding pages (``manage``, ``reports``…). Those words are reserved
as fund short names (``services.RESERVED_SLUGS``).
"""

from django.urls import path

from medexchange.funding import pages

urlpatterns = [
    path("funding/<slug:network>/", pages.fund_list, name="list"),
    path("funding/<slug:network>/reports/", pages.report, name="reports"),
    path("funding/<slug:network>/<slug:fund>/", pages.fund_page, name="fund"),
    path("funding/<slug:network>/<slug:fund>/impact/", pages.fund_impact, name="impact"),
]
