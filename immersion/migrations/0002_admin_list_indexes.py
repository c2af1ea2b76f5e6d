"""Indexes for the admin lists' order and filters (cadres.exports, issue points 3-4)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("immersion", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="immersion",
            index=models.Index(fields=["-recue_le", "-id"], name="immersion_recue_le"),
        ),
    ]
