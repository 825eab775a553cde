from django.db import migrations, models


def fill_digests(apps, schema_editor):
    # The same fingerprint as models.method_digest; copied here because a migration must not
    # change when the model code does.
    import hashlib
    import json

    Conversation = apps.get_model("conversations", "Conversation")
    for conversation in Conversation.objects.only("pk", "method_snapshot").iterator():
        content = json.dumps(conversation.method_snapshot, sort_keys=True).encode()
        Conversation.objects.filter(pk=conversation.pk).update(
            method_digest=hashlib.sha256(content).hexdigest()
        )


class Migration(migrations.Migration):
    # Adds a column with a default: code of the previous release keeps working during a
    # rolling restart (it neither reads nor writes the column).
    dependencies = [
        ("conversations", "0008_operation_digest"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="method_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
    ]
