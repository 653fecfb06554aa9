"""The one-time token of a money form (services/submit_keys.py): a hidden field with a
fresh value each time the form is shown; the page keeps it when the form comes back with
errors (nothing was written, the claim rolled back), so a resend is still one submission."""

from __future__ import annotations

import uuid

from django import forms


class OnceTokenMixin(forms.Form):
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_token", uuid.uuid4())

    @property
    def token(self) -> str | None:
        value = self.cleaned_data.get("client_token")
        return str(value) if value else None


def new_token() -> str:
    return str(uuid.uuid4())
