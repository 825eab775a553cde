"""Give every participant of the load test a card of their own, through the real action.

Run by bench/loadtest.py after bench/setup_app.py, with the same environment as the servers
(DATABASE_URL, REDIS_URL, DILEMMAGESPREK_DATA_DIR):

    python bench/loadtest_setup.py --setup setup.json --out cards.json

For each conversation in setup.json, each participant session (setup_app.py made one per
participant) gets one card, made with `worksheets.actions.add_card` as that participant, so
the card is valid under every rule a browser's card is. Participants alternate between the
players table (step 2) and the options table (step 3) and spread over its columns and rows.
During the load test each participant edits only this card: editing one's own card is
allowed to a participant whatever the current step is (only a lock would refuse it, and the
load test locks nothing), so every edit is valid while the facilitator changes steps.

The output lists, per conversation, its id, its `last_seq` after the cards, and per
participant its session key, member id, card id and the live region (step) that shows the
card; and the server settings that matter under load (database pool, session saving).
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
    parser.add_argument("--setup", required=True, help="the output of bench/setup_app.py")
    parser.add_argument("--group", default="load", help="the group of setup.json to use")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    import django

    django.setup()

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from dilemmagesprek.conversations.access import SESSION_KEY as MEMBERS_SESSION_KEY
    from dilemmagesprek.conversations.models import Conversation, Member
    from dilemmagesprek.worksheets.actions import add_card
    from dilemmagesprek.worksheets.models import Column

    started = time.monotonic()
    setup = json.loads(Path(args.setup).read_text())
    rooms = []
    for spec in setup["groups"][args.group]:
        conversation = Conversation.objects.get(pk=spec["id"])
        matrices = list(conversation.method.matrices.values())
        columns = {
            matrix.key: list(
                Column.objects.filter(conversation=conversation, matrix=matrix.key)
                .order_by("position")
                .values_list("pk", flat=True)
            )
            for matrix in matrices
        }
        # The live region (step) that shows each table: what a screen refetches after a
        # card event (live.js: the step of the card's column, plus the spotlight).
        regions = {
            f.matrix: f"step-{conversation.method.step_of_field(f.key).number}"
            for f in conversation.method.fields("matrix")
        }
        participants = []
        for j, session_key in enumerate(spec["sessions"]):
            member_id = SessionStore(session_key=session_key).load()[MEMBERS_SESSION_KEY][
                conversation.pk
            ]
            member = Member.objects.select_related("conversation").get(pk=member_id)
            matrix = matrices[j % len(matrices)]
            place = j // len(matrices)
            card = add_card(
                member,
                columns[matrix.key][place % len(columns[matrix.key])],
                matrix.rows[place % len(matrix.rows)].key,
                f"Kaart van deelnemer {j + 1}",
            )
            participants.append(
                {
                    "session": session_key,
                    "member": member_id,
                    "card": card.pk,
                    "region": regions[matrix.key],
                }
            )
        conversation.refresh_from_db()
        rooms.append(
            {
                "id": conversation.pk,
                "last_seq": conversation.last_seq,
                "current_step": conversation.current_step,
                "steps": [step.number for step in conversation.method.steps],
                "participants": participants,
            }
        )
    database = settings.DATABASES["default"]
    out = {
        # The settings the servers run with that matter under load (no secrets).
        "server_settings": {
            "database_engine": database["ENGINE"].rsplit(".", 1)[-1],
            "conn_max_age": database.get("CONN_MAX_AGE"),
            "pool": database.get("OPTIONS", {}).get("pool"),
            "session_save_every_request": settings.SESSION_SAVE_EVERY_REQUEST,
            "workers": settings.WORKERS,
            "debug": settings.DEBUG,
        },
        "rooms": rooms,
        "facilitator_session": setup["facilitator_session"],
        "session_cookie": setup["session_cookie"],
        "csrf_cookie": setup["csrf_cookie"],
        "seconds": round(time.monotonic() - started, 2),
    }
    Path(args.out).write_text(json.dumps(out))
    print(
        f"loadtest setup: {sum(len(r['participants']) for r in rooms)} cards in "
        f"{len(rooms)} conversations in {out['seconds']} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
