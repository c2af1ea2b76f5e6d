from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class CadresConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cadres"
    verbose_name = "Cadres et organisation"

    def ready(self):
        from . import signals

        Role = self.get_model("Role")
        post_save.connect(signals.role_changed, sender=Role)
        post_delete.connect(signals.role_changed, sender=Role)
        m2m_changed.connect(signals.perimeter_changed, sender=Role.structures.through)
        post_migrate.connect(signals.ensure_delegue_permissions)
        post_migrate.connect(signals.name_the_site, sender=self)
