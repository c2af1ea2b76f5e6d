"""Who did it, from where, on which page: set on every audit entry of the request;
and the views of a cadre's programme by someone else in the portal (a coach, a mentor),
recorded in the audit trail."""

from auditlog.middleware import AuditlogMiddleware
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import F, Value
from django.db.models.functions import Cast, Concat, Now, Upper

from .models import Trace

# Portal pages that show a cadre's programme to its other side: URL name -> (model, URL
# kwarg, lookup from the object to the cadre). Pages only the cadre can open are not
# listed (a cadre reading their own file is not recorded). The admin records its change
# views itself (``cadres.perimeter.PerimeterAdminMixin``), with the object it has.
# Each costs one query per view.
PORTAL_PAGES = {
    "coaching:detail": ("coaching.Coaching", "pk", "cadre"),
    "mentorat:detail": ("mentorat.Mentorat", "pk", "mentore"),
}


class AuditMiddleware(AuditlogMiddleware):
    def get_extra_data(self, request):
        data = super().get_extra_data(request)
        data["chemin"] = request.path[:255]
        return data

    def __call__(self, request):
        response = super().__call__(request)
        if request.method == "GET" and response.status_code == 200:
            match = getattr(request, "resolver_match", None)
            page = match and PORTAL_PAGES.get(match.view_name)
            if page:
                record_portal_view(request, match.kwargs, *page, self.get_extra_data(request))
        return response


# Columns written for a view, in the order of the SELECT below.
COLUMNS = [
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "action",
    "changes_text",
    "actor_id",
    "actor_email",
    "remote_addr",
    "timestamp",
    "chemin",
    "cadre_id",
]


def record_portal_view(request, kwargs, label, kwarg, cadre, extra):
    """One ``INSERT … SELECT`` (a single query, whatever the page): the row is written
    only if the object exists and its cadre is not the viewer."""
    model = apps.get_model(label)
    user = request.user
    queryset = (
        model.objects.filter(pk=kwargs[kwarg])
        .exclude(**{f"{cadre}__user_id": user.pk})
        .annotate(
            _ct=Value(ContentType.objects.get_for_model(model).pk),
            _object_pk=Cast("pk", models.CharField()),
            _repr=Concat(
                Value(f"{model._meta.verbose_name} n° {kwargs[kwarg]} – "),
                F(f"{cadre}__prenom"),
                Value(" "),
                Upper(f"{cadre}__nom"),
                output_field=models.TextField(),
            ),
            _action=Value(Trace.Action.ACCESS),
            _text=Value(""),
            _actor=Value(user.pk),
            _email=Value(user.email),
            _addr=Cast(Value(extra.get("remote_addr")), models.GenericIPAddressField()),
            _now=Now(),
            _path=Value(extra["chemin"]),
        )
        .values_list(
            "_ct",
            "_object_pk",
            "pk",
            "_repr",
            "_action",
            "_text",
            "_actor",
            "_email",
            "_addr",
            "_now",
            "_path",
            f"{cadre}_id",
        )
    )
    select, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(Trace._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)
