"""Indexes for the admin lists' order and filters (cadres.exports, issue points 3-4)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coaching", "0002_specialites"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="coaching",
            index=models.Index(fields=["-cree_le", "-id"], name="coaching_cree_le"),
        ),
        migrations.AddIndex(
            model_name="coaching",
            index=models.Index(fields=["date_debut"], name="coaching_date_debut"),
        ),
    ]
