from django.db import migrations

SPECIALITES = [
    ("prise_de_poste", "Prise de poste"),
    ("difficulte", "Difficulté particulière"),
    ("transformation", "Accompagnement d'une transformation"),
    ("debouche", "Recherche de débouché professionnel"),
    ("leadership", "Leadership et posture managériale"),
    ("crise", "Gestion de crise"),
    ("equipe", "Management d'équipe et coopération"),
    ("communication", "Communication et prise de parole"),
]


def create(apps, schema_editor):
    Specialite = apps.get_model("coaching", "Specialite")
    for code, libelle in SPECIALITES:
        Specialite.objects.get_or_create(code=code, defaults={"libelle": libelle})


class Migration(migrations.Migration):
    dependencies = [("coaching", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
