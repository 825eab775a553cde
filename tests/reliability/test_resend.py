"""Resending one operation: at most once, and never at the cost of what the user typed.

The crash and scale-out tests resend unanswered posts unchanged. Here the resend carries
more text than the first try: live.js keeps a form whose post failed ("niet opgeslagen") and
lets the user go on typing in it, and `resendPending` then submits it with the operation id
it had. If the first try did reach the server, the resend must not be answered "saved" while
the new text is dropped (SECURITY-RELIABILITY.md R4: the same operation id with a different
payload is refused, not acknowledged).
"""

from __future__ import annotations

from tests.reliability.harness import Browser, Stack, create_conversation, new_op, read_field


def test_a_resend_with_more_text_is_not_silently_dropped(stack: Stack, start_server) -> None:
    (server,) = start_server(stack, "server", wait=False)
    username, password = stack.create_facilitator()
    server.wait_ready()
    browser = Browser(server.url)
    browser.login(username, password)
    conversation_id = create_conversation(browser, "Opnieuw versturen")
    path = f"/g/{conversation_id}/veld/dilemma/"
    version = read_field(browser, conversation_id, "dilemma").version
    op = new_op("form")

    # The first try arrives and is applied; pretend its answer was lost on the way back.
    first = browser.post(path, {"text": "Eerste zin.", "version": str(version), "op": op})
    assert first.status == 303
    # The user typed on in the form that said "niet opgeslagen"; on reconnect it is resent.
    resend = browser.post(path, {"text": "Eerste zin. En meer.", "version": str(version), "op": op})

    saved = read_field(browser, conversation_id, "dilemma").text
    assert resend.status != 303 or saved == "Eerste zin. En meer.", (
        f"the resend was answered {resend.status} (saved) but the field holds {saved!r}: "
        "the text typed after the first try is gone without a word"
    )
