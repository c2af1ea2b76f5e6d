"""The coach register (issue 13, point 1): accreditations with their expiry, supervision
hours per year, the signed ethics charter; who may be assigned follows it (service,
admin form, coach picker); the délégués' filter of accreditations expiring within 60
days and their reminder, exactly once, to the délégués who answer for the coach."""

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accompagnement.models import Notification
from accompagnement.services import outbox
from coaching import services, tasks
from coaching.models import Certification, Coach, Coaching, SupervisionAnnuelle
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    UserFactory,
    make_cadre_user,
    make_delegue,
)

pytestmark = pytest.mark.django_db

COACH_LIST = reverse("admin:coaching_coach_changelist")
KIND = services.ACCREDITATION_EXPIRING


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def coaching_a(m):
    return CoachingFactory(cadre=make_cadre_user(structure=m["a_srv"]))


def coach_with(*expiries, **kwargs):
    """A coach whose only accreditations expire on ``expiries`` (None: never)."""
    coach = CoachFactory(accreditation=False, **kwargs)
    for niveau, expire_le in zip(["PCC", "ACC", "MCC"], expiries, strict=False):
        Certification.objects.create(
            coach=coach, organisme="icf", niveau=niveau, expire_le=expire_le
        )
    return coach


def text_of(response):
    return html.unescape(response.content.decode())


# --- Who may be assigned -----------------------------------------------------------


def test_an_expired_accreditation_is_refused_with_its_date(coaching_a, today):
    coach = coach_with(today - timedelta(days=1), nom="Expire", prenom="Anne")
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching_a, coach)
    date = date_format(today - timedelta(days=1), "j F Y")
    assert excinfo.value.message_dict["coach"] == [
        f"L'accréditation ICF PCC de Anne EXPIRE a expiré le {date} : "
        "ce coach ne peut pas être affecté."
    ]
    coaching_a.refresh_from_db()
    assert coaching_a.coach is None and coaching_a.statut == Coaching.Statut.A_AFFECTER
    assert not Notification.objects.filter(kind="coaching_affecte").exists()


def test_an_accreditation_is_valid_through_its_expiry_day(coaching_a, today):
    coach = coach_with(today)
    assert services.assign(coaching_a, coach).statut == Coaching.Statut.CONTRACTUALISE


def test_one_valid_accreditation_among_expired_ones_is_enough(coaching_a, today):
    coach = coach_with(today - timedelta(days=400), None)  # an expired one, then a title
    assert services.assign(coaching_a, coach).coach == coach


def test_a_coach_without_accreditation_is_refused(coaching_a):
    coach = coach_with(nom="Nouveau", prenom="Marc")
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching_a, coach)
    assert excinfo.value.message_dict["coach"] == [
        "Marc NOUVEAU n'a aucune accréditation enregistrée : ce coach ne peut pas être affecté."
    ]


def test_a_coach_without_a_signed_charter_is_refused(coaching_a):
    coach = CoachFactory(nom="Pressé", prenom="Luc", charte_signee_le=None)
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching_a, coach)
    assert excinfo.value.message_dict["coach"] == [
        "Luc PRESSÉ n'a pas signé la charte de déontologie : ce coach ne peut pas être affecté."
    ]


def test_every_reason_is_given_at_once(coaching_a, today):
    coach = coach_with(today - timedelta(days=3), actif=False, charte_signee_le=None)
    with pytest.raises(ValidationError) as excinfo:
        services.assign(coaching_a, coach)
    messages = excinfo.value.message_dict["coach"]
    assert len(messages) == 3
    assert "est inactif" in messages[0]
    assert "a expiré le" in messages[1]
    assert "charte de déontologie" in messages[2]


def test_contracting_a_preset_coach_checks_the_register(coaching_a, today):
    coach = coach_with(today - timedelta(days=1))
    Coaching.objects.filter(pk=coaching_a.pk).update(coach=coach)
    with pytest.raises(ValidationError) as excinfo:
        services.change_status(coaching_a, Coaching.Statut.CONTRACTUALISE)
    assert "a expiré le" in " ".join(excinfo.value.messages)
    coaching_a.refresh_from_db()
    assert coaching_a.statut == Coaching.Statut.A_AFFECTER


def test_the_queryset_and_the_reasons_agree(today):
    """``Coach.objects.eligible()`` (lists, pickers, suggestions) is the same rule as
    ``ineligibility_reasons`` (services)."""
    coaches = [
        CoachFactory(),
        coach_with(today),
        coach_with(None),
        coach_with(today - timedelta(days=1)),
        coach_with(today - timedelta(days=1), today + timedelta(days=3)),
        coach_with(),
        CoachFactory(actif=False),
        CoachFactory(charte_signee_le=None),
        CoachFactory(charte_signee_le=today + timedelta(days=1)),  # not yet signed
    ]
    eligible = set(Coach.objects.eligible())
    assert {c for c in coaches if not c.ineligibility_reasons()} == eligible
    assert len(eligible) == 4


def test_a_charter_signed_in_the_future_is_refused_by_the_form(client, m):
    coach = CoachFactory()
    coach.charte_signee_le = timezone.localdate() + timedelta(days=2)
    with pytest.raises(ValidationError) as excinfo:
        coach.full_clean()
    assert excinfo.value.message_dict["charte_signee_le"] == [
        "La charte ne peut pas être signée dans le futur."
    ]


def test_the_admin_form_refuses_an_expired_coach(client, m, coaching_a, today):
    from tests.coaching.test_admin import form_data

    coach = coach_with(today - timedelta(days=10), nom="Périmé", prenom="Jules")
    client.force_login(m["delegue_a"])
    response = client.post(
        reverse("admin:coaching_coaching_change", args=[coaching_a.pk]),
        form_data(coaching_a, coach=coach.pk),
    )
    assert response.status_code == 200
    assert "L'accréditation ICF PCC de Jules PÉRIMÉ a expiré le" in text_of(response)
    coaching_a.refresh_from_db()
    assert coaching_a.coach is None


# --- The register in the admin -------------------------------------------------------


def test_register_list_shows_accreditations_charter_and_supervision(client, m, today):
    coach = coach_with(today + timedelta(days=20), None, nom="Registre")
    SupervisionAnnuelle.objects.create(coach=coach, annee=today.year, heures=14)
    SupervisionAnnuelle.objects.create(coach=coach, annee=today.year - 1, heures=30)
    barred = CoachFactory(nom="Barré", charte_signee_le=None)
    client.force_login(m["delegue_b"])
    response = client.get(COACH_LIST)
    page = text_of(response)
    expiry = (today + timedelta(days=20)).strftime("%d/%m/%Y")
    assert f"ICF PCC <strong>expire le {expiry}</strong>" in page
    assert "ICF ACC (sans expiration)" in page
    assert "14.0 h" in page and "30.0 h" not in page  # this year's hours
    rows = {c.nom: c for c in response.context["cl"].result_list}
    assert rows["Registre"].supervision_annee == 14
    assert f"{barred} n'a pas signé la charte de déontologie" in page


@pytest.mark.parametrize(
    "days, listed",
    [(-1, False), (0, True), (30, True), (60, True), (61, False), (None, False)],
)
def test_delegues_filter_accreditations_expiring_within_60_days(client, m, today, days, listed):
    expiring = coach_with(None if days is None else today + timedelta(days=days))
    CoachFactory()  # two years ahead
    client.force_login(m["delegue_a"])
    response = client.get(COACH_LIST, {"accreditation": "expire_bientot"})
    assert response.status_code == 200
    assert (list(response.context["cl"].result_list) == [expiring]) is listed
    if not listed:
        assert list(response.context["cl"].result_list) == []


def test_filters_coaches_without_a_valid_accreditation_and_not_assignable(client, m, today):
    good = CoachFactory(nom="Aaa")
    expired = coach_with(today - timedelta(days=1), nom="Bbb")
    no_charter = CoachFactory(nom="Ccc", charte_signee_le=None)
    client.force_login(m["delegue_a"])
    listed = client.get(COACH_LIST, {"accreditation": "aucune_valide"}).context["cl"]
    assert list(listed.result_list) == [expired]
    listed = client.get(COACH_LIST, {"affectable": "non"}).context["cl"]
    assert list(listed.result_list) == [expired, no_charter]
    listed = client.get(COACH_LIST, {"affectable": "oui"}).context["cl"]
    assert list(listed.result_list) == [good]


def test_register_export_carries_accreditations_and_charter(client, m, today):
    coach_with(None, nom="Export", charte_signee_le=today.replace(day=1))
    client.force_login(m["delegue_a"])
    response = client.get(reverse("admin:coaching_coach_export_csv"))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Accréditations" in content and "Charte de déontologie signée le" in content
    assert "ICF PCC (sans expiration)" in content
    assert today.replace(day=1).strftime("%d/%m/%Y") in content


# --- The reminder --------------------------------------------------------------------


def rows(**filters):
    return Notification.objects.filter(kind=KIND, **filters)


def test_internal_coach_reminds_the_delegues_of_their_structure_once(m, today):
    coach = coach_with(
        today + timedelta(days=45),
        type=Coach.Type.INTERNE,
        structure=m["a_dir"],
        organisme="",
        nom="Interne",
    )
    delegue_dir = make_delegue(m["a_dir"])
    make_delegue(m["a_srv"])  # below the coach's structure: not theirs

    tasks.remind_expiring_accreditations.delay()
    tasks.remind_expiring_accreditations.delay()  # the beat runs it again: no second mail

    accreditation = coach.certifications.get()
    assert sorted(rows().values_list("email", flat=True)) == sorted(
        [m["delegue_a"].email, delegue_dir.email]
    )
    assert set(rows().values_list("object_id", flat=True)) == {accreditation.pk}
    assert {timezone.localtime(r.reference_at).date() for r in rows()} == {accreditation.expire_le}


def test_external_coach_reminds_every_delegue(m, today):
    coach_with(today + timedelta(days=10), nom="Externe")
    UserFactory()  # not a délégué
    inactive = make_delegue(m["b"])
    inactive.is_active = False
    inactive.save()

    assert services.remind_expiring_accreditations() == 1
    assert services.remind_expiring_accreditations() == 1

    assert sorted(rows().values_list("email", flat=True)) == sorted(
        [m["delegue_a"].email, m["delegue_b"].email]
    )


def test_only_accreditations_expiring_within_the_window_of_active_coaches(m, today):
    coach_with(today + timedelta(days=61))
    coach_with(today - timedelta(days=1))
    coach_with(None)
    coach_with(today + timedelta(days=5), actif=False)
    CoachFactory()
    assert services.remind_expiring_accreditations() == 0
    assert not rows().exists()


def test_a_renewed_accreditation_is_reminded_again_when_its_new_date_comes_close(m, today):
    coach = coach_with(today + timedelta(days=30))
    services.remind_expiring_accreditations()
    assert rows().count() == 2
    accreditation = coach.certifications.get()
    # Renewed for three years: nothing to say now...
    accreditation.expire_le = today + timedelta(days=3 * 365)
    accreditation.save()
    services.remind_expiring_accreditations()
    assert rows().count() == 2
    # ... and again once the new date is 60 days away.
    later = accreditation.expire_le - timedelta(days=60)
    services.remind_expiring_accreditations(today=later)
    assert rows().count() == 4
    assert rows(reference_at__date=accreditation.expire_le).count() == 2


def test_the_reminder_mail_names_the_coach_the_date_and_links_the_register(m, today):
    coach = coach_with(today + timedelta(days=12), nom="Mail", prenom="Inès")
    delegue_only = make_delegue(m["a"])
    Notification.objects.all().delete()
    services.remind_expiring_accreditations()
    mail.outbox.clear()
    outbox.send_due()
    sent = [msg for msg in mail.outbox if msg.to == [delegue_only.email]]
    assert len(sent) == 1
    date = date_format(today + timedelta(days=12), "j F Y")
    assert sent[0].subject.endswith(f"Accréditation de Inès MAIL : expire le {date}")
    assert "ne pourra plus être affecté ni présélectionné" in sent[0].body
    assert reverse("admin:coaching_coach_change", args=[coach.pk]) in sent[0].body
