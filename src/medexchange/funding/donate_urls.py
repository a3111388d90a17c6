"""Donation pages, the payment provider's webhook, the donor's page and the receipts
register. Included (without a namespace of its own) by ``funding/urls.py``, before the
``funding/<network>/<fund>/`` patterns, so the names are ``funding:donate`` and so on."""

from django.urls import path

from medexchange.funding import donate_views

urlpatterns = [
    path("funding/webhooks/stripe/", donate_views.stripe_webhook, name="stripe-webhook"),
    path("funding/my-gifts/", donate_views.my_gifts, name="my-gifts"),
    path("funding/my-gifts/receipts/<int:pk>/", donate_views.my_receipt, name="my-receipt"),
    path(
        "funding/my-gifts/pledges/<int:pk>/cancel/",
        donate_views.pledge_cancel,
        name="pledge-cancel",
    ),
    path("funding/<slug:network>/<slug:fund>/donate/", donate_views.donate, name="donate"),
    path(
        "funding/<slug:network>/<slug:fund>/donate/thanks/<str:token>/",
        donate_views.donate_thanks,
        name="donate-thanks",
    ),
    path(
        "funding/<slug:network>/<slug:fund>/donate/thanks/<str:token>/receipt/",
        donate_views.donate_receipt,
        name="donate-receipt",
    ),
    path(
        "funding/<slug:network>/<slug:fund>/manage/receipts/",
        donate_views.fund_receipts,
        name="fund-receipts",
    ),
    path(
        "funding/<slug:network>/<slug:fund>/manage/receipts/<int:pk>/",
        donate_views.staff_receipt,
        name="staff-receipt",
    ),
]
