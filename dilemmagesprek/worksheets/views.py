"""The worksheet page and every form on it.

Each POST runs one action and redirects back to the step it came from (post/redirect/get), so
editing works without JavaScript; with htmx the same response is swapped in place. A mistake
re-renders the page with the message next to the form and the typed text kept (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dilemmagesprek.audit.log import audit
from dilemmagesprek.audit.models import Entry
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.access import member_for
from dilemmagesprek.conversations.events import (
    AlreadyApplied,
    OperationReused,
    content_digest,
    operation,
)
from dilemmagesprek.conversations.forms import ConversationForm
from dilemmagesprek.conversations.models import Member
from dilemmagesprek.conversations.permissions import (
    Perm,
    next_statuses,
    permissions_of,
    require,
)
from dilemmagesprek.lib.views import error_messages, posted_int
from dilemmagesprek.realtime.protocol import MAX_MESSAGE_BYTES

from . import actions, facilitation
from .models import Card, Column, NextStep, RemovedCard
from .state import worksheet_state


@login_required
def new_conversation(request: HttpRequest) -> HttpResponse:
    form = ConversationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conversation, _facilitator = actions.new_conversation(
                request.user,
                form.cleaned_data["title"],
                form.cleaned_data["variant"],
                form.cleaned_data["planned_at"],
            )
        except ValidationError as error:
            for key, messages in error_messages(error).items():
                for message in messages:
                    form.add_error(key if key in form.fields else None, message)
        else:
            return redirect("dg:members", conversation.pk)
    return render(
        request, "worksheets/new.html", {"form": form}, status=422 if form.errors else 200
    )


@require_GET
def worksheet(request: HttpRequest, conversation_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    live = "X-DG-Live" in request.headers or request.htmx
    if not live:  # a live refresh is not a new visit
        audit(Entry.Action.VIEWED, user=request.user, member=member)
    regions = _regions(request.GET.get("regions", ""), member) if live else None
    return render_worksheet(request, member, regions=regions)


# The page's live regions besides the steps ("step-<number>"); see worksheets/regions.html.
FIXED_REGIONS = {"facilitator-bar", "steps-nav", "spotlight"}


def _regions(asked: str, member: Member) -> set[str] | None:
    """The known region ids in `asked` (comma-separated); None, the whole page, when none.

    After a change each screen fetches only the regions the change touched: rendering one
    step instead of the whole worksheet is most of the cost of keeping screens up to date.
    """
    steps = {f"step-{step.number}" for step in member.conversation.method.steps}
    heads = {f"{step}-head" for step in steps}
    wanted = {
        name for name in asked.split(",")[:20]
        if name in FIXED_REGIONS or name in steps or name in heads
    }
    return wanted or None


@require_GET
def projector(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The current step in large type for a shared screen: read-only for everyone."""
    member = member_for(request, conversation_id)
    conversation = member.conversation
    seq = conversation.last_seq
    state = worksheet_state(conversation, member)
    context = {
        "conversation": conversation,
        "member": member,
        "perms": {Perm.VIEW.value},
        "state": state,
        "seq": seq,
        "errors": {},
        "submitted": {},
    }
    return render(request, "worksheets/projector.html", context)


def render_worksheet(
    request: HttpRequest,
    member: Member,
    *,
    errors: dict[str, list[str]] | None = None,
    submitted: dict[str, dict[str, Any]] | None = None,
    conflict: actions.EditConflict | None = None,
    status: int = 200,
    regions: set[str] | None = None,
) -> HttpResponse:
    conversation = member.conversation
    # The sequence number is read before the worksheet, so the page's state is never older
    # than the number it claims: replaying from it can repeat a change, never miss one.
    seq = conversation.last_seq
    state = worksheet_state(conversation, member)
    context = {
        "conversation": conversation,
        "method": conversation.method,
        "member": member,
        "perms": permissions_of(member, conversation),
        "state": state,
        "seq": seq,
        "ws_max_bytes": MAX_MESSAGE_BYTES,
        "errors": errors or {},
        # Every message once more at the top, linked to its form: a mistake is never silent,
        # also when the form it belongs to is not on the page (an unknown or removed target).
        "error_summary": [
            (form_id, message) for form_id, messages in (errors or {}).items()
            for message in messages
        ],
        "submitted": submitted or {},
        "conflict": conflict,
        "status_choices": next_statuses(conversation),
    }
    if regions is not None:
        context["regions"] = regions
        context["region_steps"] = {
            int(name.removeprefix("step-"))
            for name in regions if name.startswith("step-") and not name.endswith("-head")
        }
        # A step's head alone (after a step change): the title, "current", the timer.
        context["region_heads"] = {
            int(name.removeprefix("step-").removesuffix("-head"))
            for name in regions if name.startswith("step-") and name.endswith("-head")
        }
        return render(request, "worksheets/regions.html", context, status=status)
    return render(request, "worksheets/worksheet.html", context, status=status)


def _apply(
    request: HttpRequest,
    member: Member,
    form_id: str,
    anchor: str,
    run: Callable[[], object],
    regions: str | None = None,
) -> HttpResponse:
    """Run one action; on success back to the step, on a mistake the page with the message.

    The form's operation id makes a resent form (a double click, a retry after the network
    dropped) land once: the second time it is answered as if it just succeeded. `regions`
    names what an htmx answer renders when it is not just the step of `anchor`.
    """
    try:
        with operation(request.POST.get("op"), _digest(request)):
            run()
    except AlreadyApplied:
        pass
    except OperationReused:
        # The same form was saved before with other content (typed on after a failed send):
        # keep what is in the box and ask to save once more, under a fresh operation id.
        message = _("An earlier version of this was already saved. Check the text and save again.")
        return render_worksheet(
            request,
            member,
            errors={form_id: [message]},
            submitted={form_id: request.POST.dict()},
            status=409,
        )
    except ValidationError as error:
        messages = [m for ms in error_messages(error).values() for m in ms]
        return render_worksheet(
            request,
            member,
            errors={form_id: messages},
            submitted={form_id: request.POST.dict()},
            status=422,
        )
    except actions.EditConflict as conflict:
        return render_worksheet(
            request,
            member,
            conflict=conflict,
            submitted={form_id: request.POST.dict()},
            status=409,
        )
    url = reverse("dg:worksheet", args=[member.conversation_id])
    if request.htmx and (regions or anchor.startswith("step-")):
        # live.js swaps in only what changed; no need to render the rest.
        url = f"{url}?regions={regions or anchor}"
    return HttpResponseRedirect(f"{url}#{anchor}", status=303)


def _digest(request: HttpRequest) -> str:
    """A fingerprint of what the form asks for, without its token and operation id."""
    return content_digest(
        (key, value) for key, values in request.POST.lists() for value in values
        if key not in ("csrfmiddlewaretoken", "op")
    )


def _step_anchor(member: Member, field_key: str) -> str:
    step = member.conversation.method.step_of_field(field_key)
    return f"step-{step.number}" if step else "worksheet"


def _column_anchor(member: Member, column_id: str) -> str:
    column = Column.objects.filter(conversation_id=member.conversation_id, pk=column_id).first()
    if column is None:
        return "worksheet"
    field = next(
        (f for f in member.conversation.method.fields("matrix") if f.matrix == column.matrix), None
    )
    return _step_anchor(member, field.key) if field else "worksheet"


@require_POST
def set_field(request: HttpRequest, conversation_id: str, key: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    return _apply(
        request,
        member,
        f"field-{key}",
        _step_anchor(member, key),
        lambda: actions.set_field(
            member, key, request.POST.get("text", ""), _required_version(request)
        ),
    )


def _required_version(request: HttpRequest) -> int:
    """The version a text edit is based on; without it a save could overwrite blindly."""
    version = posted_int(request, "version")
    if version is None or version < 0:
        raise ValidationError(
            {"text": _("This form is out of date. Reload the page; your text is kept here.")}
        )
    return version


@require_POST
def confirm_field(request: HttpRequest, conversation_id: str, key: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    version = posted_int(request, "version")
    return _apply(
        request,
        member,
        f"field-{key}",
        _step_anchor(member, key),
        lambda: actions.confirm_field(member, key, -1 if version is None else version),
    )


@require_POST
def add_column(request: HttpRequest, conversation_id: str, matrix: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    field = next(
        (f for f in member.conversation.method.fields("matrix") if f.matrix == matrix), None
    )
    anchor = _step_anchor(member, field.key) if field else "worksheet"
    return _apply(
        request,
        member,
        f"column-new-{matrix}",
        anchor,
        lambda: actions.add_column(member, matrix, request.POST.get("name", "")),
    )


@require_POST
def rename_column(request: HttpRequest, conversation_id: str, column_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    return _apply(
        request,
        member,
        f"column-{column_id}",
        _column_anchor(member, column_id),
        lambda: actions.rename_column(member, column_id, request.POST.get("name", "")),
    )


@require_POST
def move_column(request: HttpRequest, conversation_id: str, column_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    offset = -1 if request.POST.get("direction") == "left" else 1
    return _apply(
        request,
        member,
        f"column-{column_id}",
        _column_anchor(member, column_id),
        lambda: actions.move_column(member, column_id, offset),
    )


@require_http_methods(["GET", "POST"])
def remove_column(request: HttpRequest, conversation_id: str, column_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    column = Column.objects.filter(conversation_id=conversation_id, pk=column_id).first()
    anchor = _column_anchor(member, column_id)
    if request.method == "POST":
        return _apply(
            request,
            member,
            f"column-{column_id}",
            anchor,
            lambda: actions.remove_column(member, column_id),
        )
    require(member, Perm.ARRANGE_COLUMNS)
    if column is None:
        return redirect("dg:worksheet", conversation_id)
    state = worksheet_state(member.conversation, member)
    heading = next(
        (
            cv.title
            for s in state.steps
            for f in s.fields
            if f.matrix
            for cv in f.matrix.columns
            if cv.column.pk == column.pk
        ),
        column.name,
    )
    return _confirm_page(
        request,
        member,
        anchor,
        question=_("Remove “%(name)s” with all its cards?") % {"name": heading},
        action=reverse("dg:remove_column", args=[conversation_id, column_id]),
    )


@require_POST
def tag_woo_grounds(request: HttpRequest, conversation_id: str, column_id: str) -> HttpResponse:
    """Tag an option with the Woo grounds the group thinks are at stake."""
    member = member_for(request, conversation_id)
    return _apply(
        request,
        member,
        f"woo-{column_id}",
        _column_anchor(member, column_id),
        lambda: actions.tag_woo_grounds(member, column_id, request.POST.getlist("woo_grounds")),
    )


@require_POST
def add_card(request: HttpRequest, conversation_id: str, column_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    row = request.POST.get("row", "")
    return _apply(
        request,
        member,
        f"card-new-{column_id}-{row}",
        _column_anchor(member, column_id),
        lambda: actions.add_card(
            member,
            column_id,
            row,
            request.POST.get("text", ""),
            anonymous=request.POST.get("anonymous") == "on",
        ),
    )


def _card_anchor(member: Member, card_id: str) -> str:
    card = Card.objects.filter(conversation_id=member.conversation_id, pk=card_id).first()
    return _column_anchor(member, card.column_id) if card else "worksheet"


@require_POST
def edit_card(request: HttpRequest, conversation_id: str, card_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    return _apply(
        request,
        member,
        f"card-{card_id}",
        _card_anchor(member, card_id),
        lambda: actions.edit_card(member, card_id, request.POST.get("text", "")),
    )


@require_http_methods(["GET", "POST"])
def remove_card(request: HttpRequest, conversation_id: str, card_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    anchor = _card_anchor(member, card_id)
    if request.method == "POST":
        return _apply(
            request,
            member,
            f"card-{card_id}",
            anchor,
            lambda: actions.remove_card(member, card_id),
        )
    card = Card.objects.filter(conversation_id=conversation_id, pk=card_id).first()
    if card is None:
        return redirect("dg:worksheet", conversation_id)
    require(member, Perm.ADD_CARD)
    if card.author_id != member.pk:
        require(member, Perm.EDIT_ANY_CARD)
    return _confirm_page(
        request,
        member,
        anchor,
        question=_("Remove this card?"),
        quote=card.text,
        action=reverse("dg:remove_card", args=[conversation_id, card_id]),
        undoable=True,
    )


@require_POST
def restore_card(request: HttpRequest, conversation_id: str, card_id: str) -> HttpResponse:
    """Undo the removal of a card (only its remover, for a short while)."""
    member = member_for(request, conversation_id)
    removed = RemovedCard.objects.filter(conversation_id=conversation_id, pk=card_id).first()
    matrix = removed.column.matrix if removed else ""
    anchor = _column_anchor(member, removed.column_id) if removed else "worksheet"
    return _apply(
        request,
        member,
        f"undo-{matrix}",
        anchor,
        lambda: actions.restore_card(member, card_id),
    )


@require_POST
def add_next_step(request: HttpRequest, conversation_id: str, key: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    post = request.POST
    return _apply(
        request,
        member,
        f"next-step-new-{key}",
        _step_anchor(member, key),
        lambda: actions.add_next_step(
            member, key, post.get("what", ""), post.get("who", ""), post.get("when", "")
        ),
    )


def _next_step_anchor(member: Member, step_id: str) -> str:
    step = NextStep.objects.filter(conversation_id=member.conversation_id, pk=step_id).first()
    return _step_anchor(member, step.field_key) if step else "worksheet"


@require_POST
def edit_next_step(request: HttpRequest, conversation_id: str, step_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    post = request.POST
    return _apply(
        request,
        member,
        f"next-step-{step_id}",
        _next_step_anchor(member, step_id),
        lambda: actions.edit_next_step(
            member, step_id, post.get("what", ""), post.get("who", ""), post.get("when", "")
        ),
    )


@require_http_methods(["GET", "POST"])
def remove_next_step(request: HttpRequest, conversation_id: str, step_id: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    anchor = _next_step_anchor(member, step_id)
    if request.method == "POST":
        return _apply(
            request,
            member,
            f"next-step-{step_id}",
            anchor,
            lambda: actions.remove_next_step(member, step_id),
        )
    step = NextStep.objects.filter(conversation_id=conversation_id, pk=step_id).first()
    if step is None:
        return redirect("dg:worksheet", conversation_id)
    require(member, Perm.EDIT_NEXT_STEPS)
    return _confirm_page(
        request,
        member,
        anchor,
        question=_("Remove this action?"),
        quote=step.what,
        action=reverse("dg:remove_next_step", args=[conversation_id, step_id]),
    )


@require_POST
def save_evaluation(request: HttpRequest, conversation_id: str, key: str) -> HttpResponse:
    member = member_for(request, conversation_id)
    score = posted_int(request, "score")
    return _apply(
        request,
        member,
        f"evaluation-{key}",
        _step_anchor(member, key),
        lambda: actions.save_evaluation(
            member, key, -1 if score is None else score, request.POST.get("remark", "")
        ),
    )


def _confirm_page(
    request: HttpRequest,
    member: Member,
    anchor: str,
    *,
    question: str,
    action: str,
    quote: str = "",
    undoable: bool = False,
) -> HttpResponse:
    """Removing asks first; without JavaScript this page is the question."""
    back = reverse("dg:worksheet", args=[member.conversation_id]) + f"#{anchor}"
    return render(
        request,
        "worksheets/confirm_remove.html",
        {
            "conversation": member.conversation,
            "member": member,
            "question": question,
            "quote": quote,
            "action": action,
            "back": back,
            "undoable": undoable,
        },
    )


# The facilitator's commands: name → (function, how to read its arguments from the form).
LEAD_COMMANDS: dict[str, Callable[[Member, HttpRequest], object]] = {
    "step_option": lambda m, r: facilitation.set_step_option(
        m, posted_int(r, "step") or 0, r.POST.get("option", ""), r.POST.get("value") == "1"
    ),
    "reveal": lambda m, r: facilitation.reveal_step(m, posted_int(r, "step") or 0),
    "anonymous": lambda m, r: facilitation.set_anonymous(m, r.POST.get("value") == "1"),
    "lock_field": lambda m, r: facilitation.lock_field(
        m, r.POST.get("key", ""), r.POST.get("value") == "1"
    ),
    "spotlight": lambda m, r: facilitation.spotlight(m, r.POST.get("card") or None),
}


@require_POST
def lead(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Lock, write-alone, reveal, anonymity and spotlight: the facilitator's hand."""
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    command = LEAD_COMMANDS.get(request.POST.get("command", ""))
    step = posted_int(request, "step") or member.conversation.current_step
    if command is None:
        return render_worksheet(
            request, member, errors={"lead": [_("Unknown command.")]}, status=422
        )
    return _apply(request, member, "lead", f"step-{step}", lambda: command(member, request))


# The step and the timer are led during the conversation itself: posted with htmx, their
# answer renders only what they change, so nothing the facilitator is typing elsewhere on the
# page is lost (a whole-page post would throw it away).


@require_POST
def change_step(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Open a step for everyone."""
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    number = posted_int(request, "step")
    current = member.conversation.current_step
    if number is None or member.conversation.method.step(number) is None:
        # Only a forged form names a step that does not exist: back to the current one.
        return HttpResponseRedirect(
            reverse("dg:worksheet", args=[conversation_id]) + f"#step-{current}", status=303
        )
    return _apply(
        request, member, "step", f"step-{number}",
        lambda: conversation_actions.change_step(member, number),
        regions=f"steps-nav,step-{current}-head,step-{number}-head",
    )


TIMER_COMMANDS: dict[str, Callable[[Member], object]] = {
    "start": conversation_actions.start_timer,
    "pause": conversation_actions.pause_timer,
    **{
        f"extend-{minutes}": lambda m, minutes=minutes: conversation_actions.extend_timer(
            m, minutes
        )
        for minutes in conversation_actions.EXTEND_CHOICES
    },
}


@require_POST
def timer(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Start, pause or extend the current step's timer."""
    member = member_for(request, conversation_id)
    require(member, Perm.MANAGE)
    command = TIMER_COMMANDS.get(request.POST.get("action", ""))
    if command is None:
        return render_worksheet(
            request, member, errors={"timer": [_("Unknown timer action.")]}, status=422
        )
    step = member.conversation.current_step
    return _apply(
        request, member, "timer", f"step-{step}", lambda: command(member),
        regions=f"step-{step}-head,facilitator-bar",
    )
