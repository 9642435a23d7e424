import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents.models import DocumentKind
from extranet.models import User
from families.models import Family, FamilyDocument

from . import factories, files


@pytest.fixture
def secretary(demo):
    client = Client()
    client.force_login(User.objects.get(username="secretariat-combs"))
    return client


def add_document(family, name="justificatif.pdf", when=None, status="pending"):
    from django.core.files.base import ContentFile

    # Each site's proof of address (Ploufragan's has its own name).
    kind = DocumentKind.objects.get(site=family.site, scope="family", proves_address=True)
    document = FamilyDocument(
        family=family,
        kind=kind,
        original_name=name,
        content_type="application/pdf",
        size=100,
        status=status,
    )
    if when:
        document.uploaded_at = when
    document.file.save("x.pdf", ContentFile(files.pdf()), save=False)
    document.save()
    return document


def changelist(client, **params):
    response = client.get(reverse("admin:families_family_changelist"), params)
    assert response.status_code == 200
    return [family.name for family in response.context["cl"].result_list]


@pytest.mark.parametrize(
    "term",
    ["Martin", "Claire", "06 12 34 56 78", "0612345678", "famille.martin@example.org", "demo"],
)
def test_family_search(secretary, term):
    assert changelist(secretary, q=term) == ["Martin"]


def test_search_never_crosses_sites(secretary):
    assert changelist(secretary, q="Le Goff") == []
    assert changelist(secretary, q="06 98 76 54 32") == []


def test_missing_documents_filter(secretary, demo):
    martin = Family.objects.get(name="Martin")
    assert changelist(secretary, documents="missing") == ["Martin"]
    add_document(martin)
    assert changelist(secretary, documents="missing") == []
    assert changelist(secretary, documents="complete") == ["Martin"]


def test_documents_to_review_oldest_first_and_scoped(secretary, demo):
    martin = Family.objects.get(name="Martin")
    newer = add_document(martin, "nouveau.pdf")
    older = add_document(martin, "ancien.pdf", when=timezone.now() - timezone.timedelta(days=3))
    foreign = add_document(Family.objects.get(name="Le Goff"), "legoff.pdf")
    response = secretary.get(reverse("admin:families_familydocument_changelist"))
    assert list(response.context["cl"].result_list) == [older, newer]
    file_url = reverse("admin:families_familydocument_file", args=[older.pk])
    preview = secretary.get(file_url)
    assert preview.status_code == 200 and preview["Content-Disposition"].startswith("inline")
    foreign_url = reverse("admin:families_familydocument_file", args=[foreign.pk])
    assert secretary.get(foreign_url).status_code == 404
    change = reverse("admin:families_familydocument_change", args=[foreign.pk])
    assert secretary.get(change).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_refusal_needs_a_reason_and_emails_it(run_worker):
    call_command("load_demo_data", "--force", stdout=io.StringIO())
    run_worker()  # The demo's own e-mails (receipts of its payments) first.
    mail.outbox.clear()
    secretary = Client()
    secretary.force_login(User.objects.get(username="secretariat-combs"))
    document = add_document(Family.objects.get(name="Martin"))
    url = reverse("admin:families_familydocument_change", args=[document.pk])
    response = secretary.post(url, {"status": "refused", "refusal_reason": ""})
    assert "refusal_reason" in response.context["adminform"].form.errors
    response = secretary.post(
        url, {"status": "refused", "refusal_reason": "Document illisible, merci de le rescanner."}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == "refused" and document.reviewed_by.username == "secretariat-combs"
    run_worker()
    assert [m.to for m in mail.outbox] == [["famille.martin@example.org"]]
    assert "Document illisible" in mail.outbox[0].body
    parent = Client()
    parent.force_login(User.objects.get(site__slug="combs-la-ville", username="demo"))
    page = parent.get(reverse("families:family")).text
    assert "Refusé" in page and "Document illisible" in page


def test_accept_action(secretary, demo):
    document = add_document(Family.objects.get(name="Martin"))
    foreign = add_document(Family.objects.get(name="Le Goff"))
    secretary.post(
        reverse("admin:families_familydocument_changelist"),
        {"action": "accept", "_selected_action": [document.pk, foreign.pk]},
    )
    document.refresh_from_db()
    foreign.refresh_from_db()
    assert document.status == "accepted"
    assert foreign.status == "pending"  # Not of her site: untouched.


def test_history_shows_who_changed_what(secretary, demo):
    parent = User.objects.get(site__slug="combs-la-ville", username="demo")
    claire = parent.family.guardians.get(first_name="Claire")
    client = Client()
    client.force_login(parent)
    from tests.test_family import guardian_data

    client.post(
        reverse("families:guardian_edit", args=[claire.pk]),
        guardian_data(claire, profession="Violoncelliste"),
    )
    response = secretary.get(reverse("admin:families_guardian_history", args=[claire.pk]))
    assert response.status_code == 200
    records = list(response.context["page_obj"])
    assert records[0].history_user == parent
    assert records[0].profession == "Violoncelliste"


def test_history_of_another_site_is_out_of_reach(secretary, demo):
    le_goff = Family.objects.get(name="Le Goff")
    yann = le_goff.guardians.get()
    for url in [
        reverse("admin:families_family_history", args=[le_goff.pk]),
        reverse("admin:families_guardian_history", args=[yann.pk]),
    ]:
        assert secretary.get(url).status_code == 404
    record = le_goff.history.first()
    url = reverse("admin:families_family_simple_history", args=[le_goff.pk, record.pk])
    assert secretary.get(url).status_code in (403, 404)
    secretary.post(url, {"name": "Volé", "site": demo["combs"].pk})
    le_goff.refresh_from_db()
    assert le_goff.name == "Le Goff" and le_goff.site == demo["ploufragan"]


def test_filters_do_not_show_other_sites(secretary, demo):
    page = secretary.get(reverse("admin:families_familydocument_changelist"))
    assert "Ploufragan" not in page.text
    kinds = secretary.get(reverse("admin:families_family_changelist")).text
    assert "Centre culturel de Ploufragan" not in kinds


def test_missing_filter_agrees_with_the_family_page(secretary, demo):
    martin = Family.objects.get(name="Martin")
    document = add_document(martin, status="accepted")
    assert changelist(secretary, documents="missing") == []
    Family.objects.filter(pk=martin.pk).update(address_changed_at=timezone.now())
    assert changelist(secretary, documents="missing") == ["Martin"]
    FamilyDocument.objects.filter(pk=document.pk).update(
        uploaded_at=timezone.now() + timezone.timedelta(minutes=1)
    )
    assert changelist(secretary, documents="missing") == []
    FamilyDocument.objects.filter(pk=document.pk).update(
        uploaded_at=timezone.now() - timezone.timedelta(days=120)
    )
    Family.objects.filter(pk=martin.pk).update(address_changed_at=None)
    assert changelist(secretary, documents="missing") == ["Martin"]  # Expired after 3 months.


def test_secretariat_save_makes_an_open_family_form_stale(secretary, demo):
    parent = User.objects.get(site__slug="combs-la-ville", username="demo")
    claire = parent.family.guardians.get(first_name="Claire")
    from tests.test_family import guardian_data

    stale = guardian_data(claire, profession="Altiste")
    response = secretary.post(
        reverse("admin:families_guardian_change", args=[claire.pk]),
        {**guardian_data(claire, profession="Harpiste"), "position": 1},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    client = Client()
    client.force_login(parent)
    assert (
        client.post(reverse("families:guardian_edit", args=[claire.pk]), stale).status_code == 409
    )
    claire.refresh_from_db()
    assert claire.profession == "Harpiste"


def test_file_view_without_permission_is_403(demo):
    client = factories.signed_in(factories.staff(demo["combs"], [], username="stagiaire"))
    document = add_document(Family.objects.get(name="Martin"))
    url = reverse("admin:families_familydocument_file", args=[document.pk])
    assert client.get(url).status_code in (403, 404)


def test_family_change_page_has_guardians_inline(secretary, demo):
    martin = Family.objects.get(name="Martin")
    response = secretary.get(reverse("admin:families_family_change", args=[martin.pk]))
    assert response.status_code == 200
    assert "Claire" in response.text


def test_the_site_column_and_filter_only_for_network_administrators(secretary, demo):
    """A secretary's list shows her site's families only: no column nor filter
    repeating the site on each row; a network administrator keeps both."""
    url = reverse("admin:families_family_changelist")
    mine = secretary.get(url)
    assert "site" not in mine.context["cl"].list_display
    assert "column-site" not in mine.text and "site__id__exact" not in mine.text
    network = Client()
    network.force_login(User.objects.get(username="admin"))
    every = network.get(url)
    assert "site" in every.context["cl"].list_display
    assert "column-site" in every.text and "site__id__exact" in every.text


def test_account_state_counts_agree_with_the_list_filter(combs):
    """The day's counts (one pass over the accounts) and the list filter's
    conditions (EXISTS per family) put every family in the same states, with
    several accounts per family, closed ones among them."""
    from families import account_states

    now = timezone.now()
    shapes = {
        "none": [],
        "closed only": [{"is_active": False, "last_login": now}],
        "never": [{}],
        "invited": [{"invited_at": now}],
        "invited, another signed in": [{"invited_at": now}, {"last_login": now}],
        "signed in, closed since": [{"last_login": now, "is_active": False}, {"invited_at": now}],
        "two never": [{}, {}],
        "signed": [{"last_login": now}],
    }
    for n, (name, accounts) in enumerate(shapes.items()):
        family = Family.objects.create(site=combs, name=name)
        for m, fields in enumerate(accounts):
            User.objects.create(
                username=f"u{n}-{m}", site=combs, family=family, password="!", **fields
            )
    families = Family.objects.filter(site=combs)
    counted = account_states.counts(families)
    for state, condition in account_states.CONDITIONS.items():
        assert counted[state] == families.filter(condition()).count(), state
    assert counted == {"none": 2, "never": 4, "invited": 2, "used": 2}
