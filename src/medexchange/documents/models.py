"""The applicant's document vault: documents, their versions, who opened them, referee letters.

Files live in the ``"private"`` storage (``settings.STORAGES``), which no URL serves: a
version keeps only the random storage name, and every download goes through the
permission-checking view that writes a ``DocumentAccess`` row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.catalog.choices import DocumentKind
from medexchange.documents.choices import ExpiryFlag, RefereeRequestStatus

# A document expiring within this many days is flagged "expires soon".
EXPIRES_SOON_DAYS = 60
# How long a referee's one-time upload link works.
REFEREE_LINK_DAYS = 30


def private_storage() -> Storage:
    """The vault's storage, looked up on each use so tests can point it elsewhere."""
    return storages["private"]


def hash_token(token: str) -> str:
    """Referee tokens are stored hashed: a leaked database does not open upload links."""
    return hashlib.sha256(token.encode()).hexdigest()


class DocumentQuerySet(models.QuerySet["Document"]):
    def alive(self) -> DocumentQuerySet:
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user: Any) -> DocumentQuerySet:
        """The owner sees their own documents, confidential referee letters included (that
        they exist, from whom, when) — but not their files: see ``DocumentVersion``."""
        if not user.is_authenticated:
            return self.none()
        return self.alive().filter(owner=user)

    def editable_by(self, user: Any) -> DocumentQuerySet:
        """The owner may rename and add versions to their own documents, not to a referee's
        confidential letter."""
        return self.visible_to(user).filter(is_confidential=False)


class Document(models.Model):
    """One document of an applicant's vault, uploaded once and attached to many applications."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    kind = models.CharField(_("type"), max_length=30, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    is_confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_("A referee's letter: its owner knows it exists but may not read it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Set when the owner deletes a document one of whose versions an application still
    # holds: it leaves the vault, and the application's reviewers keep the file.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["kind", "title", "pk"]
        indexes = [models.Index(fields=["owner", "deleted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
                name="documents_document_expires_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("documents:list") + f"#document-{self.pk}"

    @property
    def current_version(self) -> DocumentVersion | None:
        """The latest version; uses prefetched ``versions`` when there are some."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "versions" in cache:
            versions = list(cache["versions"])
            return max(versions, key=lambda version: version.number) if versions else None
        return self.versions.order_by("-number").first()

    def is_expired(self, on: dt.date | None = None) -> bool:
        """Expired on ``on`` (default today): the expiry date has passed."""
        on = on or timezone.localdate()
        return self.expires_on is not None and self.expires_on < on

    def expires_before(self, date: dt.date) -> bool:
        """No longer valid on ``date``: e.g. before an exchange session ends."""
        return self.expires_on is not None and self.expires_on < date

    def expiry_flag(self, on: dt.date | None = None) -> str:
        on = on or timezone.localdate()
        if self.is_expired(on):
            return ExpiryFlag.EXPIRED
        if self.expires_before(on + dt.timedelta(days=EXPIRES_SOON_DAYS + 1)):
            return ExpiryFlag.EXPIRES_SOON
        return ExpiryFlag.VALID


class DocumentVersionQuerySet(models.QuerySet["DocumentVersion"]):
    def visible_to(self, user: Any) -> DocumentVersionQuerySet:
        """Versions ``user`` may download.

        The owner: their own documents' versions, except confidential referee letters.
        Extension point for the applications app: the ids its
        ``selectors.document_version_ids_visible_to(user)`` returns (versions attached to
        applications the user reviews or coordinates, confidential letters included).
        """
        if not user.is_authenticated:
            return self.none()
        rule = Q(
            document__owner=user,
            document__is_confidential=False,
            document__deleted_at__isnull=True,
        )
        attached = _attached_version_ids(user)
        if attached is not None:
            rule |= Q(pk__in=attached)
        return self.filter(rule)


ATTACHED_VERSIONS_SELECTOR = "medexchange.applications.selectors"


def _attached_version_ids(user: Any) -> Any:
    """The applications app's subquery of version ids, or None while it does not exist.

    Imported lazily (the applications app depends on this one, not the other way round).
    Only a missing module or function is tolerated: an error inside it is raised.
    """
    try:
        selectors = importlib.import_module(ATTACHED_VERSIONS_SELECTOR)
    except ModuleNotFoundError as error:
        if error.name not in {ATTACHED_VERSIONS_SELECTOR, "medexchange.applications"}:
            raise
        return None
    function = getattr(selectors, "document_version_ids_visible_to", None)
    return None if function is None else function(user)


class DocumentVersion(models.Model):
    """One uploaded file of a document; a new upload adds a version, never overwrites."""

    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    # Random, never derived from the uploaded name; the file is in ``private_storage()``.
    storage_name = models.CharField(_("storage name"), max_length=100, unique=True)
    original_name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty for a referee, who has no account."),
    )

    objects = DocumentVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="documents_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    def get_download_url(self) -> str:
        return reverse("documents:download", kwargs={"pk": self.pk})

    def get_inline_url(self) -> str:
        return self.get_download_url() + "?inline=1"


class DocumentAccess(models.Model):
    """Who opened which version, when and from where; written by the download view."""

    version = models.ForeignKey(
        DocumentVersion,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="accesses",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accessed_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    inline = models.BooleanField(_("viewed in the browser"), default=False)

    class Meta:
        verbose_name = _("document access")
        verbose_name_plural = _("document accesses")
        ordering = ["-accessed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user or '—'} {self.version}"


class RefereeRequestQuerySet(models.QuerySet["RefereeRequest"]):
    def visible_to(self, user: Any) -> RefereeRequestQuerySet:
        """The applicant sees the requests they sent (never the token)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(applicant=user)

    def editable_by(self, user: Any) -> RefereeRequestQuerySet:
        """Only a request still waiting for its letter can be resent or cancelled."""
        return self.visible_to(user).filter(used_at__isnull=True, cancelled_at__isnull=True)

    def open(self, now: dt.datetime | None = None) -> RefereeRequestQuerySet:
        """Requests whose link still works."""
        return self.filter(
            used_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now or timezone.now()
        )


def _referee_link_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=REFEREE_LINK_DAYS)


class RefereeRequest(models.Model):
    """An applicant's request to a referee for a recommendation letter, by one-time link."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.CASCADE,
        related_name="referee_requests",
    )
    referee_name = models.CharField(_("referee's name"), max_length=200)
    referee_email = models.EmailField(_("referee's e-mail address"))
    message = models.TextField(_("message to the referee"), blank=True, max_length=2000)
    # Only the hash: the link itself is in the referee's e-mail and nowhere else.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    sent_at = models.DateTimeField(_("last sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("link expires"), default=_referee_link_expiry)
    used_at = models.DateTimeField(_("letter received"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    document = models.OneToOneField(
        Document,
        verbose_name=_("letter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referee_request",
    )

    objects = RefereeRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("referee request")
        verbose_name_plural = _("referee requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.referee_name} → {self.applicant}"

    def status(self, now: dt.datetime | None = None) -> str:
        if self.used_at:
            return RefereeRequestStatus.RECEIVED
        if self.cancelled_at:
            return RefereeRequestStatus.CANCELLED
        if self.expires_at <= (now or timezone.now()):
            return RefereeRequestStatus.EXPIRED
        return RefereeRequestStatus.PENDING

    def get_status_display(self) -> str:
        return str(RefereeRequestStatus(self.status()).label)

    def is_open(self, now: dt.datetime | None = None) -> bool:
        return self.status(now) == RefereeRequestStatus.PENDING
