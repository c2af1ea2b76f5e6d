"""What co-development spends on external facilitators (registered in its Scheme, read
by the délégués' view of external spending, ``coaching/budget.py``).

- **Engagé** (committed): the quote (``montant_devis``) of each group run by an external
  provider's animateur, counted in the year its cycle starts.
- **Dépensé** (spent): the séances of those groups held ("réalisée") in the year, each
  at the quote divided by the séances of the cycle (cancelled ones aside).

Rows by the group's structure (its path), within the user's perimeter; summed in SQL:
two queries whatever the number of groups.
"""

from django.db.models import Count, DecimalField, F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Cast

from .models import Animation, Groupe, Seance

PRICE = DecimalField(max_digits=14, decimal_places=4)


def external_spending(user, annee):
    groupes = Groupe.objects.visible_to(user).filter(
        animation=Animation.EXTERNE, montant_devis__isnull=False
    )
    committed = (
        groupes.filter(date_debut__year=annee)
        .values("structure__chemin")
        .annotate(total=Sum("montant_devis"))
        .order_by()
    )
    planned = (
        Seance.objects.filter(groupe=OuterRef("groupe"))
        .exclude(statut=Seance.Statut.ANNULEE)
        .order_by()
        .values("groupe")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    spent = (
        Seance.objects.filter(
            groupe__in=groupes.values("pk"), statut=Seance.Statut.REALISEE, debut__year=annee
        )
        .annotate(
            prix=Cast(F("groupe__montant_devis"), PRICE)
            / Subquery(planned, output_field=IntegerField())
        )
        .values("groupe__structure__chemin")
        .annotate(total=Sum("prix", output_field=PRICE))
        .order_by()
    )
    lines = {}
    for row in committed:
        lines.setdefault(row["structure__chemin"], [None, None])[0] = row["total"]
    for row in spent:
        lines.setdefault(row["groupe__structure__chemin"], [None, None])[1] = row["total"]
    return [(path, engage, depense) for path, (engage, depense) in lines.items()]
