"""Indexes for the admin lists' order and filters (cadres.exports, issue points 3-4)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mentorat", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="mentorat",
            index=models.Index(fields=["-cree_le", "-id"], name="mentorat_cree_le"),
        ),
        migrations.AddIndex(
            model_name="mentore",
            index=models.Index(
                fields=["en_attente_depuis", "id"], name="mentore_en_attente_depuis"
            ),
        ),
    ]
