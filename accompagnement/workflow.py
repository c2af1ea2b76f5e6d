"""Status workflows shared by every scheme: one check, one French message."""

from django.core.exceptions import ValidationError


def check_step(transitions, current, new, article):
    """Raise if ``new`` may not follow ``current`` in ``transitions`` (a dict of
    TextChoices -> allowed set). ``article`` names the thing: "Une demande",
    "Un coaching". Returns False when nothing changes."""
    if new == current:
        return False
    if new not in transitions[current]:
        raise ValidationError(
            {
                "statut": f"{article} « {current.label.lower()} » ne peut pas passer "
                f"au statut « {type(current)(new).label.lower()} »."
            }
        )
    return True
