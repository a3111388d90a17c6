from __future__ import annotations

from typing import Any

from django import forms
from django.db import models


class HttpsURLField(models.URLField):
    """A URL field whose forms assume https:// when the scheme is left out."""

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        kwargs.setdefault("assume_scheme", "https")
        if form_class is not None:
            kwargs["form_class"] = form_class
        if choices_form_class is not None:
            kwargs["choices_form_class"] = choices_form_class
        return super().formfield(**kwargs)
