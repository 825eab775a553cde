"""The dilemma owner's preparation form, built from the questions in the method."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dilemmagesprek.conversations.access import member_for
from dilemmagesprek.conversations.permissions import Perm, can, permissions_of, require
from dilemmagesprek.lib.views import error_messages

from .actions import save_preparation
from .models import Preparation


@require_http_methods(["GET", "POST"])
def preparation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    require(member, Perm.VIEW_PREPARATION)
    conversation = member.conversation
    method = conversation.method
    saved = Preparation.objects.filter(conversation=conversation).first()
    answers = dict(saved.answers) if saved else {}
    kinds = list(saved.dilemma_kinds) if saved else []
    share = saved.share_in_report if saved else False
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        answers = {q.key: request.POST.get(q.key, "") for q in method.preparation.questions}
        kinds = request.POST.getlist("dilemma_kinds")
        share = request.POST.get("share_in_report") == "on"
        try:
            save_preparation(member, answers, kinds, share)
        except ValidationError as error:
            errors, status = error_messages(error), 422
        else:
            url = reverse("dg:preparation", args=[conversation_id])
            return HttpResponseRedirect(f"{url}?opgeslagen=1", status=303)
    questions = [
        {"question": q, "value": answers.get(q.key, ""), "errors": errors.get(q.key, [])}
        for q in method.preparation.questions
    ]
    return render(
        request,
        "preparations/preparation.html",
        {
            "conversation": conversation,
            "member": member,
            "method": method,
            "perms": permissions_of(member, conversation),
            "can_edit": can(member, Perm.EDIT_PREPARATION, conversation),
            "analysis": [q for q in questions if q["question"].group == "analysis"],
            "self_analysis": [q for q in questions if q["question"].group == "self"],
            "kinds": kinds,
            "share": share,
            "errors": errors,
            "saved": saved,
            "just_saved": request.GET.get("opgeslagen") == "1" and not errors,
        },
        status=status,
    )
