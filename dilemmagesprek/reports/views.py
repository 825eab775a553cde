"""Downloading the report, importing a conversation, and the draft summary in step 5."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dilemmagesprek.audit.log import audit
from dilemmagesprek.audit.models import Entry
from dilemmagesprek.conversations.access import member_for
from dilemmagesprek.conversations.permissions import Perm, require
from dilemmagesprek.throttle.limits import allow
from dilemmagesprek.worksheets.views import render_worksheet

from .exporters import EXPORTERS
from .filenames import attachment_header
from .forms import ImportForm
from .importing import InvalidDocument, import_document, read_document
from .report import build_report
from .summary import SUMMARY_FIELD, draft_summary

# Rendering is the costly part: a person gets this many reports a minute (PDF, ODT, …).
EXPORTS_PER_MINUTE = 10


@require_GET
def download(request: HttpRequest, conversation_id: str, fmt: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise Http404
    require(member, Perm.EXPORT)
    if not allow("report-export", member.pk, EXPORTS_PER_MINUTE, 60):
        return HttpResponse(
            _("You made many reports in a short time. Wait a minute and try again."),
            status=429,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "60"},
        )
    conversation = member.conversation
    report = build_report(conversation, viewer=member)
    content = exporter.render(report)
    # Who exported what, never the content or the title (they may be confidential).
    audit(Entry.Action.EXPORTED, user=request.user, member=member, detail=fmt)
    response = HttpResponse(content, content_type=exporter.content_type)
    response["Content-Disposition"] = attachment_header(conversation.title, exporter.extension)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def summary_draft(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Put a generated draft in the summary's text box; nothing is saved until the group does.

    Without JavaScript this answers with the worksheet page, the draft in the box as if typed;
    with htmx the same page is swapped in.
    """
    member = member_for(request, conversation_id)
    require(member, Perm.EDIT_FIELDS)
    conversation = member.conversation
    field = conversation.method.field(SUMMARY_FIELD)
    if field is None or field.kind != "text":
        raise Http404
    text = draft_summary(build_report(conversation, viewer=member))
    form_id = f"field-{SUMMARY_FIELD}"
    return render_worksheet(request, member, submitted={form_id: {"text": text, "draft": True}})


@login_required
@require_http_methods(["GET", "POST"])
def import_conversation(request: HttpRequest) -> HttpResponse:
    """Upload a JSON export; the importing account becomes the conversation's facilitator."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = read_document(upload.read())
            result = import_document(data, user=request.user)
        except InvalidDocument as error:
            form.add_error(
                "file", _("This file cannot be imported: %(problem)s") % {"problem": error}
            )
        else:
            audit(
                Entry.Action.IMPORTED,
                user=request.user,
                conversation_id=result.conversation.pk,
            )
            url = reverse("dg:worksheet", args=[result.conversation.pk])
            return HttpResponseRedirect(url, status=303)
    return render(
        request,
        "reports/import.html",
        {"form": form},
        status=422 if form.errors else 200,
    )
