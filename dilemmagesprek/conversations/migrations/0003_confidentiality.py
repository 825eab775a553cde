from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0002_event_op'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='confidentiality',
            field=models.CharField(choices=[('vertrouwelijk', 'Confidential'), ('intern', 'Internal'), ('openbaar', 'Public')], default='vertrouwelijk', max_length=20),
        ),
    ]
