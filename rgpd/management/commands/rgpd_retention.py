from django.core.management.base import BaseCommand

from rgpd import services


class Command(BaseCommand):
    help = (
        "Applique la durée de conservation (RGPD_RETENTION_YEARS) : anonymise les dossiers "
        "échus, efface les notes privées des accompagnements clos, supprime les liens périmés. "
        "Simulation sans --wet-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wet-run", action="store_true", help="appliquer réellement")

    def handle(self, *args, wet_run=False, **options):
        report = services.apply_retention(dry_run=not wet_run)
        prefix = "" if wet_run else "[simulation] "
        self.stdout.write(
            f"{prefix}Limite : {report['limite']:%d/%m/%Y} ; "
            f"{report['cadres']} dossier(s) à anonymiser."
        )
        if wet_run:
            self.stdout.write(
                f"Notes et contenus effacés : {report['notes']} ; liens : {report['liens']}"
            )
