"""Prepare the app's database for the bench: conversations, members and their sessions.

Run with the same environment as the server under test (DILEMMAGESPREK_DATA_DIR or
DATABASE_URL), after the server has migrated the database:

    python bench/setup_app.py --groups warmup:1x5,g30:1x30,g40:40x25,g200:1x200 --out setup.json

For each group it creates R running conversations, with the bench facilitator (a signed-in
account, the one who edits) and N participants, each with an invite-link session of their own
— the same session a browser gets from its personal link. Members and sessions are written
directly, without events: the bench measures edits, not the set-up. The output lists, per
conversation, its id, its `last_seq` and the session key of every participant, and the keys
of the method's text fields (all at version 0 in a new conversation).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", required=True, help="name:RxN,name:RxN,...")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    import django

    django.setup()

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from dilemmagesprek.accounts.models import User
    from dilemmagesprek.conversations.access import SESSION_KEY as MEMBERS_SESSION_KEY
    from dilemmagesprek.conversations.models import Conversation, Member
    from dilemmagesprek.worksheets.actions import new_conversation
    from dilemmagesprek.worksheets.hints import QUESTION_FIELDS

    started = time.monotonic()
    now = timezone.now()
    username = f"bench-{os.getpid()}"
    out: dict = {"groups": {}}
    with transaction.atomic():
        user = User.objects.create(username=username, first_name="Bench")
        user.set_unusable_password()
        user.save()
        facilitator = SessionStore()
        facilitator[SESSION_KEY] = str(user.pk)
        facilitator[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        facilitator[HASH_SESSION_KEY] = user.get_session_auth_hash()
        facilitator.create()
        out["facilitator_session"] = facilitator.session_key

        for spec in args.groups.split(","):
            name, shape = spec.split(":")
            rooms, size = (int(x) for x in shape.split("x"))
            group = []
            for r in range(rooms):
                conversation, _ = new_conversation(user, f"Bench {name} {r + 1}", "lang")
                Conversation.objects.filter(pk=conversation.pk).update(
                    status=Conversation.Status.RUNNING
                )
                members = Member.objects.bulk_create(
                    Member(
                        conversation=conversation,
                        display_name=f"Deelnemer {i + 1}",
                        role=Member.Role.PARTICIPANT,
                        joined_at=now,
                    )
                    for i in range(size)
                )
                sessions = []
                for member in members:
                    store = SessionStore()
                    store[MEMBERS_SESSION_KEY] = {conversation.pk: member.pk}
                    store.create()
                    sessions.append(store.session_key)
                conversation.refresh_from_db()
                group.append(
                    {"id": conversation.pk, "last_seq": conversation.last_seq, "sessions": sessions}
                )
                # The text fields the sender edits, one per HTTP connection, each from the
                # version it is at (a save names the version it is based on). Only fields a
                # page updates from the event itself (text.html's data-dg-inplace), so a frame
                # arriving is the screen showing the edit, with no fetch after it.
                out["text_fields"] = [
                    f.key
                    for f in conversation.method.fields("text")
                    if not f.owner_confirms and f.key not in QUESTION_FIELDS
                ]
            out["groups"][name] = group
    out["session_cookie"] = settings.SESSION_COOKIE_NAME
    out["csrf_cookie"] = settings.CSRF_COOKIE_NAME
    out["database"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    out["seconds"] = round(time.monotonic() - started, 2)
    Path(args.out).write_text(json.dumps(out))
    print(
        f"setup: {sum(len(g) for g in out['groups'].values())} conversations in {out['seconds']} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
