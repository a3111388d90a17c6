"""Finance staff's pages under /funding/<network>/…; the public fund and donation pages
(``/funding/<network>/<fund>/``, ``…/donate/``) are left to the donation module."""

from django.urls import include, path

from medexchange.funding import views

app_name = "funding"
urlpatterns = [
    # Donations, webhooks, receipts and the donor's page (donate_urls.py) come first:
    # "funding/webhooks/stripe/" and "funding/my-gifts/" must win over the
    # "funding/<network>/<fund>/" patterns.
    path("", include("medexchange.funding.donate_urls")),
    path("funding/<slug:network>/manage/", views.network_funds, name="funds"),
    path("funding/<slug:network>/manage/new/", views.fund_create, name="fund-create"),
    path("funding/<slug:network>/manage/import/", views.bank_import_page, name="bank-import"),
    path("funding/<slug:network>/manage/rates/", views.rates, name="rates"),
    path("funding/<slug:network>/<slug:fund>/manage/", views.manage, name="manage"),
    path("funding/<slug:network>/<slug:fund>/manage/edit/", views.fund_edit, name="fund-edit"),
    path(
        "funding/<slug:network>/<slug:fund>/manage/gifts/new/",
        views.gift_record,
        name="gift-record",
    ),
    path(
        "funding/<slug:network>/<slug:fund>/manage/gifts/<int:pk>/refund/",
        views.gift_refund,
        name="gift-refund",
    ),
    # The public fund pages and the reports (page_urls.py) come last: their
    # "funding/<network>/<fund>/" would catch "manage" and the donation module's words.
    path("", include("medexchange.funding.page_urls")),
]
