"""Pagination of the public API."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class PublicPagination(PageNumberPagination):
    """Settings' PAGE_SIZE by default; clients may ask for up to 200 rows to save round trips."""

    page_size_query_param = "page_size"
    max_page_size = 200
