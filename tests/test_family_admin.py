import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from extranet.models import Site, User
from families.models import DocumentKind, Family, FamilyDocument

from . import files


@pytest.fixture
def demo(db):
    call_command("load_demo_data", "--force", stdout=open("/dev/null", "w"))
    return {"combs": Site.objects.get(slug="combs-la-ville"),
            "ploufragan": Site.objects.get(slug="ploufragan")}


@pytest.fixture
def secretary(demo):
    client = Client()
    client.force_login(User.objects.get(username="secretariat-combs"))
    return client


def add_document(family, name="justificatif.pdf", when=None, status="pending"):
    from django.core.files.base import ContentFile

    kind = DocumentKind.objects.get(site=family.site, name="Justificatif de domicile")
    document = FamilyDocument(family=family, kind=kind, original_name=name,
                              content_type="application/pdf", size=100, status=status)
    if when:
        document.uploaded_at = when
    document.file.save("x.pdf", ContentFile(files.pdf()), save=False)
    document.save()
    return document


def changelist(client, **params):
    response = client.get(reverse("admin:families_family_changelist"), params)
    assert response.status_code == 200
    return [family.name for family in response.context["cl"].result_list]


@pytest.mark.parametrize("term", ["Martin", "Claire", "06 12 34 56 78", "0612345678",
                                  "famille.martin@example.org", "demo"])
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
    call_command("load_demo_data", "--force", stdout=open("/dev/null", "w"))
    secretary = Client()
    secretary.force_login(User.objects.get(username="secretariat-combs"))
    document = add_document(Family.objects.get(name="Martin"))
    url = reverse("admin:families_familydocument_change", args=[document.pk])
    response = secretary.post(url, {"status": "refused", "refusal_reason": ""})
    assert "refusal_reason" in response.context["adminform"].form.errors
    response = secretary.post(url, {"status": "refused",
                                    "refusal_reason": "Document illisible, merci de le rescanner."})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == "refused" and document.reviewed_by.username == "secretariat-combs"
    run_worker()
    assert [m.to for m in mail.outbox] == [["famille.martin@example.org"]]
    assert "Document illisible" in mail.outbox[0].body
    parent = Client()
    parent.force_login(User.objects.get(site__slug="combs-la-ville", username="demo"))
    page = parent.get(reverse("family")).text
    assert "Refusé" in page and "Document illisible" in page


def test_accept_action(secretary, demo):
    document = add_document(Family.objects.get(name="Martin"))
    foreign = add_document(Family.objects.get(name="Le Goff"))
    secretary.post(reverse("admin:families_familydocument_changelist"),
                   {"action": "accept", "_selected_action": [document.pk, foreign.pk]})
    document.refresh_from_db()
    foreign.refresh_from_db()
    assert document.status == "accepted"
    assert foreign.status == "pending"  # Not of her site: untouched.


def test_family_history_in_admin(secretary, demo):
    martin = Family.objects.get(name="Martin")
    martin.reference_email = "nouvelle@example.org"
    martin.save()
    response = secretary.get(reverse("admin:families_family_history", args=[martin.pk]))
    assert response.status_code == 200
    assert "nouvelle@example.org" in response.text or "Modifié" in response.text


def test_family_change_page_has_guardians_inline(secretary, demo):
    martin = Family.objects.get(name="Martin")
    response = secretary.get(reverse("admin:families_family_change", args=[martin.pk]))
    assert response.status_code == 200
    assert "Claire" in response.text
