"""Indexes for the admin lists' order and filters (cadres.exports, issue points 3-4)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accompagnement", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="demande",
            index=models.Index(fields=["-recue_le", "-id"], name="demande_recue_le"),
        ),
        migrations.AddIndex(
            model_name="evaluation",
            index=models.Index(fields=["-demandee_le", "-id"], name="evaluation_demandee_le"),
        ),
    ]
