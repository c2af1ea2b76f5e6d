"""Immersions in the admin, as a délégué uses it: their perimeter only (lists, change
pages, exports, PDFs), the decision through the services (a refusal or postponement
is motivated; an acceptance generates convention v1 and puts it in signature), a change
to what the convention states making a new version, the agent's days over 3 years and
the deadline on the list, with constant queries."""

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.working_days import is_working_day
from immersion import services
from immersion.models import Convention, Immersion, JourImmersion, Signature
from immersion.rules import decision_deadline
from tests.exports import csv_text
from tests.factories import CadreFactory, ImmersionFactory

pytestmark = pytest.mark.django_db

S = Immersion.Statut
LIST = reverse("admin:immersion_immersion_changelist")
ADD = reverse("admin:immersion_immersion_add")
EXPORT = reverse("admin:immersion_immersion_export_csv")


def text_of(response):
    return html.unescape(response.content.decode())


def change_url(immersion):
    return reverse("admin:immersion_immersion_change", args=[immersion.pk])


def pdf_url(convention):
    return reverse(
        "admin:immersion_immersion_convention_pdf", args=[convention.immersion_id, convention.pk]
    )


def working_days_from(start, count):
    out, day = [], start
    while len(out) < count:
        if is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def ahead(days=120):
    return timezone.localdate() + timedelta(days=days)


def fr(day):
    return f"{day:%d/%m/%Y}"


FIELDS = [
    "motivation",
    "projet_professionnel",
    "structure_accueil",
    "lieu",
    "fonctions_observees",
    "tuteur_nom",
    "tuteur_fonction",
    "tuteur_email",
    "tuteur_telephone",
    "accueil_representant_nom",
    "accueil_representant_email",
    "employeur_representant_nom",
    "employeur_representant_email",
]


def signataires_data(rows=(), initial=None):
    """The further signatories' inline as the browser posts it."""
    data = {
        "autres_signataires-TOTAL_FORMS": len(rows),
        "autres_signataires-INITIAL_FORMS": len(rows) if initial is None else initial,
        "autres_signataires-MIN_NUM_FORMS": 0,
        "autres_signataires-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        data.update({f"autres_signataires-{i}-{k}": v for k, v in row.items()})
    return data


def form_data(immersion, **overrides):
    """The change form as the browser posts it (days and conventions are read-only)."""
    days = immersion.jours.count()
    conventions = immersion.conventions.count()
    signataires = [
        {"id": s.pk, "immersion": immersion.pk, "partie": s.partie, "nom": s.nom}
        | {"fonction": s.fonction, "email": s.email}
        for s in immersion.autres_signataires.order_by("pk")
    ]
    data = {f: getattr(immersion, f) for f in FIELDS}
    data.update(
        {
            "recue_le": immersion.recue_le.isoformat(),
            "statut": immersion.statut,
            "motif_decision": immersion.motif_decision,
            "jours": "\n".join(fr(d) for d in immersion.dates),
            "jours-TOTAL_FORMS": days,
            "jours-INITIAL_FORMS": days,
            "jours-MIN_NUM_FORMS": 0,
            "jours-MAX_NUM_FORMS": 1000,
            "conventions-TOTAL_FORMS": conventions,
            "conventions-INITIAL_FORMS": conventions,
            "conventions-MIN_NUM_FORMS": 0,
            "conventions-MAX_NUM_FORMS": 1000,
            **signataires_data(signataires),
            "_save": "Enregistrer",
        }
    )
    if immersion.accord_delai_court:
        data["accord_delai_court"] = "on"
    if immersion.deplacement:
        data["deplacement"] = "on"
    if immersion.ordre_mission_date:
        data["ordre_mission_numero"] = immersion.ordre_mission_numero
        data["ordre_mission_date"] = immersion.ordre_mission_date.isoformat()
    data.update(overrides)
    return data


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def immersion_a(m):
    return ImmersionFactory(cadre=m["cadre_a"], jours=working_days_from(ahead(), 3))


@pytest.fixture
def immersion_b(m):
    return ImmersionFactory(
        cadre=m["cadre_b"],
        structure_accueil="Rectorat de Lyon",
        jours=working_days_from(ahead(), 2),
    )


def accepted(immersion, delegue):
    services.decide(immersion, S.ACCEPTEE, by=delegue)
    immersion.refresh_from_db()
    return immersion


# --- Perimeter ------------------------------------------------------------------------


def test_delegue_lists_only_the_immersions_of_their_perimeter(client, m, immersion_a, immersion_b):
    client.force_login(m["delegue_a"])
    response = client.get(LIST)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [immersion_a]
    assert "Rectorat de Lyon" not in text_of(response)


def test_administrator_lists_every_immersion(client, m, immersion_a, immersion_b):
    client.force_login(m["admin"])
    response = client.get(LIST)
    assert set(response.context["cl"].result_list) == {immersion_a, immersion_b}


def test_delegue_of_another_ministry_gets_404(client, m, immersion_a):
    convention = accepted(immersion_a, m["delegue_a"]).current_convention()
    client.force_login(m["delegue_b"])
    assert client.get(change_url(immersion_a)).status_code == 404
    response = client.post(
        change_url(immersion_a), form_data(immersion_a, lieu="Ailleurs", statut=S.ACCEPTEE)
    )
    assert response.status_code == 404
    assert client.get(pdf_url(convention)).status_code == 404
    immersion_a.refresh_from_db()
    assert immersion_a.lieu != "Ailleurs" and immersion_a.conventions.count() == 1
    assert list(client.get(LIST).context["cl"].result_list) == []


def test_export_is_limited_to_the_perimeter(client, m, immersion_a, immersion_b):
    client.force_login(m["delegue_a"])
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    body = csv_text(response)
    assert m["cadre_a"].email in body and "Préfecture de la Gironde" in body
    assert m["cadre_b"].email not in body and "Rectorat de Lyon" not in body


# --- Decision ---------------------------------------------------------------------------


def test_refusal_without_reason_is_refused(client, m, immersion_a):
    client.force_login(m["delegue_a"])
    response = client.post(change_url(immersion_a), form_data(immersion_a, statut=S.REFUSEE))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["motif_decision"] == [
        "Le refus ou le report doit être motivé : indiquez les raisons."
    ]
    immersion_a.refresh_from_db()
    assert immersion_a.statut == S.DEMANDEE and immersion_a.decidee_le is None


def test_postponement_with_reasons_is_recorded(client, m, immersion_a):
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(immersion_a),
        form_data(immersion_a, statut=S.REPORTEE, motif_decision="Clôture budgétaire en cours."),
    )
    assert response.status_code == 302
    immersion_a.refresh_from_db()
    assert immersion_a.statut == S.REPORTEE
    assert immersion_a.motif_decision == "Clôture budgétaire en cours."
    assert immersion_a.decidee_par == m["delegue_a"]
    assert not immersion_a.conventions.exists()


def test_acceptance_generates_convention_v1_in_signature(client, m, immersion_a):
    client.force_login(m["delegue_a"])
    response = client.post(change_url(immersion_a), form_data(immersion_a, statut=S.ACCEPTEE))
    assert response.status_code == 302
    immersion_a.refresh_from_db()
    assert immersion_a.statut == S.EN_SIGNATURE
    assert immersion_a.decidee_par == m["delegue_a"] and immersion_a.decidee_le
    convention = immersion_a.conventions.get()
    assert convention.version == 1 and bytes(convention.pdf).startswith(b"%PDF")
    assert sorted(convention.signatures.values_list("partie", flat=True)) == [
        "accueil",
        "agent",
        "employeur",
    ]
    page = text_of(client.get(change_url(immersion_a)))
    assert "Convention v1 : pas encore signée par toutes les parties (0 / 3 signatures)" in page
    assert "L'immersion ne peut pas commencer" in page
    assert convention.sha256 in page
    assert pdf_url(convention) in page


def test_status_offers_only_the_decisions(client, m, immersion_a):
    client.force_login(m["delegue_a"])
    form = client.get(change_url(immersion_a)).context["adminform"].form
    assert [c for c, _ in form.fields["statut"].choices] == [
        S.DEMANDEE,
        S.ACCEPTEE,
        S.REFUSEE,
        S.REPORTEE,
    ]
    response = client.post(change_url(immersion_a), form_data(immersion_a, statut=S.SIGNEE))
    assert response.status_code == 200
    assert "statut" in response.context["adminform"].form.errors
    accepted(immersion_a, m["delegue_a"])
    form = client.get(change_url(immersion_a)).context["adminform"].form
    assert form.fields["statut"].disabled


# --- Changes through services.update ----------------------------------------------------


def test_a_change_to_the_convention_makes_a_new_version(client, m, immersion_a):
    accepted(immersion_a, m["delegue_a"])
    first = immersion_a.current_convention()
    services.sign(first.signatures.get(partie="agent"), "Alpha", "192.0.2.1")
    client.force_login(m["delegue_a"])
    response = client.post(change_url(immersion_a), form_data(immersion_a, lieu="Mérignac"))
    assert response.status_code == 302
    immersion_a.refresh_from_db()
    assert immersion_a.lieu == "Mérignac" and immersion_a.statut == S.EN_SIGNATURE
    first.refresh_from_db()
    current = immersion_a.current_convention()
    assert first.annulee_le is not None and current.version == 2
    assert not current.signatures.filter(signe_le__isnull=False).exists()


def test_a_contact_fix_keeps_the_convention(client, m, immersion_a):
    accepted(immersion_a, m["delegue_a"])
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(immersion_a), form_data(immersion_a, tuteur_telephone="06 00 00 00 00")
    )
    assert response.status_code == 302
    immersion_a.refresh_from_db()
    assert immersion_a.tuteur_telephone == "06 00 00 00 00"
    assert immersion_a.conventions.count() == 1


def test_changed_days_follow_the_rules_and_make_a_new_version(client, m, immersion_a):
    accepted(immersion_a, m["delegue_a"])
    client.force_login(m["delegue_a"])
    eleven = working_days_from(ahead(), 11)
    response = client.post(
        change_url(immersion_a), form_data(immersion_a, jours="\n".join(fr(d) for d in eleven))
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["jours"] == [
        "Une immersion dure au plus 10 jours ouvrés (11 indiqués)."
    ]
    assert immersion_a.jours.count() == 3
    new_days = working_days_from(ahead(140), 4)
    response = client.post(
        change_url(immersion_a), form_data(immersion_a, jours="\n".join(fr(d) for d in new_days))
    )
    assert response.status_code == 302
    assert sorted(immersion_a.dates) == new_days
    assert immersion_a.current_convention().version == 2


def test_the_delegue_records_a_request(client, m):
    client.force_login(m["delegue_a"])
    days = working_days_from(timezone.localdate() + timedelta(days=20), 2)
    data = {f: f"Valeur {f}" for f in FIELDS}
    data.update(
        tuteur_email="t@example.fr",
        accueil_representant_email="a@example.fr",
        employeur_representant_email="e@example.fr",
        cadre=m["cadre_a"].pk,
        recue_le=timezone.localdate().isoformat(),
        statut=S.DEMANDEE,
        jours="\n".join(fr(d) for d in days),
        _save="Enregistrer",
        **signataires_data(),
    )
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert any(
        "au moins trois mois" in e for e in response.context["adminform"].form.errors["jours"]
    )
    assert not Immersion.objects.exists()
    response = client.post(ADD, {**data, "accord_delai_court": "on"})
    assert response.status_code == 302
    immersion = Immersion.objects.get()
    assert immersion.accord_delai_court and sorted(immersion.dates) == days
    # A cadre outside the perimeter cannot be chosen.
    response = client.post(ADD, {**data, "accord_delai_court": "on", "cadre": m["cadre_b"].pk})
    assert response.status_code == 200 and "cadre" in response.context["adminform"].form.errors


# --- PDF ---------------------------------------------------------------------------------


def test_each_version_pdf_is_downloaded_through_the_admin(client, m, immersion_a):
    accepted(immersion_a, m["delegue_a"])
    services.update(immersion_a, lieu="Mérignac")
    client.force_login(m["delegue_a"])
    for convention in Convention.objects.filter(immersion=immersion_a):
        response = client.get(pdf_url(convention))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content == bytes(convention.pdf)
    other = ImmersionFactory(cadre=CadreFactory(structure=m["a"]))
    convention = immersion_a.current_convention()
    wrong = reverse("admin:immersion_immersion_convention_pdf", args=[other.pk, convention.pk])
    assert client.get(wrong).status_code == 404


# --- List ---------------------------------------------------------------------------------


def test_list_shows_days_signatures_window_and_overdue_deadline(client, m):
    cadre = m["cadre_a"]
    today = timezone.localdate()
    past = ImmersionFactory(
        cadre=cadre, statut=S.TERMINEE, jours=working_days_from(today - timedelta(days=400), 5)
    )
    ImmersionFactory(
        cadre=cadre, statut=S.REFUSEE, jours=working_days_from(today - timedelta(days=200), 4)
    )  # refused: does not count
    ImmersionFactory(  # out of the window
        cadre=cadre, statut=S.TERMINEE, jours=working_days_from(today - timedelta(days=1200), 6)
    )
    late = ImmersionFactory(
        cadre=cadre, recue_le=today - timedelta(days=40), jours=working_days_from(ahead(), 3)
    )
    signing = ImmersionFactory(cadre=cadre, statut=S.ACCEPTEE, jours=working_days_from(ahead(), 2))
    convention = services.prepare_convention(signing)
    for signature in convention.signatures.exclude(partie="accueil"):
        services.sign(signature, signature.nom, "192.0.2.1")
    client.force_login(m["delegue_a"])
    response = client.get(LIST)
    rows = {i.pk: i for i in response.context["cl"].result_list}
    assert rows[late.pk].nb_jours == 3 and rows[late.pk].premier_jour == late.dates[0]
    assert rows[past.pk].jours_3_ans == 5 + 3 + 2  # the agent's, whatever the row
    assert (rows[signing.pk].signees, rows[signing.pk].signataires) == (2, 3)
    page = text_of(response)
    assert "2 / 3" in page and "10 / 20" in page
    deadline = decision_deadline(late.recue_le)  # recue_le + 1 month, gone by
    assert f"⚠ {fr(deadline)} – en retard" in page


def test_changelist_queries_do_not_grow_with_the_rows(client, m):
    def make(n):
        for _ in range(n):
            cadre = CadreFactory(structure=m["a_srv"])
            immersion = ImmersionFactory(
                cadre=cadre, statut=S.EN_SIGNATURE, jours=working_days_from(ahead(), 2)
            )
            convention = Convention.objects.create(
                immersion=immersion, version=1, pdf=b"%PDF-1.7", sha256="0" * 64, contenu="x"
            )
            for partie in ("agent", "employeur", "accueil"):
                Signature.objects.create(
                    convention=convention,
                    partie=partie,
                    nom="X",
                    email="x@example.fr",
                    nonce=f"{immersion.pk}-{partie}",
                    expire_le=timezone.now() + timedelta(days=30),
                )

    client.force_login(m["delegue_a"])
    make(3)
    client.get(LIST)  # warm the per-user caches
    with CaptureQueriesContext(connection) as three:
        assert client.get(LIST).status_code == 200
    make(27)
    with CaptureQueriesContext(connection) as thirty:
        response = client.get(LIST)
    assert len(response.context["cl"].result_list) == 30
    assert len(three) == len(thirty)
    assert not any('"pdf"' in q["sql"] for q in thirty.captured_queries)


def test_search_and_filter(client, m, immersion_a):
    ImmersionFactory(cadre=CadreFactory(structure=m["a"]), structure_accueil="Cour des comptes")
    client.force_login(m["delegue_a"])
    response = client.get(LIST, {"q": "Cour des"})
    assert [i.structure_accueil for i in response.context["cl"].result_list] == ["Cour des comptes"]
    response = client.get(LIST, {"statut__exact": S.DEMANDEE})
    assert len(response.context["cl"].result_list) == 2
    assert JourImmersion.objects.filter(immersion=immersion_a).count() == 3


def test_a_finished_immersion_keeps_its_convention(client, m):
    immersion = ImmersionFactory(
        cadre=m["cadre_a"],
        statut=S.ACCEPTEE,
        jours=working_days_from(timezone.localdate() - timedelta(days=30), 2),
    )
    convention = services.prepare_convention(immersion)
    for signature in convention.signatures.all():
        services.sign(signature, signature.nom, "192.0.2.1")
    Immersion.objects.filter(pk=immersion.pk).update(statut=S.TERMINEE)
    immersion.refresh_from_db()
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(immersion), form_data(immersion, lieu="Ailleurs"), follow=True
    )
    assert "ne peut plus changer" in text_of(response)
    immersion.refresh_from_db()
    assert immersion.statut == S.TERMINEE and immersion.lieu != "Ailleurs"
    assert immersion.conventions.count() == 1
