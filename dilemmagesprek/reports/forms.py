"""The upload form for importing a conversation."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .importing import MAX_DOCUMENT_BYTES


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Exported conversation (JSON)"),
        help_text=_("A .json file made with “Download report → JSON” in this app."),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)d MB."),
                params={"max": MAX_DOCUMENT_BYTES // (1024 * 1024)},
            )
        return upload
