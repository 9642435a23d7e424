"""A draft invoice's own page: « Émettre » there, and its PDF preview marked
« Brouillon »."""

import io

from django.core import mail
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from billing.demo import SECRETARIAT_PERMISSIONS
from billing.models import Invoice

from . import factories


def secretary(site, username="secretariat", permissions=SECRETARIAT_PERMISSIONS):
    return factories.signed_in(factories.staff(site, permissions, username=username))


def pdf_text(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content[:5] == b"%PDF-"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def change_url(invoice):
    return reverse("admin:billing_invoice_change", args=[invoice.pk])


def issue_url(invoice):
    return reverse("admin:billing_invoice_issue", args=[invoice.pk])


def preview_url(invoice):
    return reverse("admin:billing_invoice_preview", args=[invoice.pk])


# « Émettre ».


def test_the_draft_is_issued_from_its_own_page(
    parent, combs, tmp_path, django_capture_on_commit_callbacks
):
    from .test_html_valid import validate

    factories.payer(parent.family)
    draft = factories.draft(parent.family, lines=[("Cursus complet", "1186.00")])
    staff = secretary(combs)
    page = staff.get(change_url(draft))
    assert 'name="_issue"' in page.text and "Émettre…" in page.text
    assert preview_url(draft) in page.text

    confirm = staff.get(issue_url(draft))
    assert confirm.status_code == 200
    text = confirm.text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "Cursus complet" in text and "1 186,00 €" in text
    assert "une erreur se corrige par un avoir" in text
    assert validate({"confirm": confirm.text}, tmp_path) == []
    assert Invoice.objects.get(pk=draft.pk).status == Invoice.Status.DRAFT  # Only shown.

    with django_capture_on_commit_callbacks(execute=True):
        issued = staff.post(issue_url(draft), follow=True)
    invoice = Invoice.objects.get(pk=draft.pk)
    assert invoice.status == Invoice.Status.ISSUED and invoice.number.endswith("FAC0001")
    assert issued.redirect_chain[-1][0] == change_url(draft)
    assert messages_of(issued) == ["1 facture émise."]  # As the list's action says it.
    assert invoice.number in issued.text and 'name="_issue"' not in issued.text
    # Issued as the action issues: the PDF and the e-mail follow through the queue.
    assert DBTaskResult.objects.filter(task_path__endswith="render_invoice_pdf").exists()


def test_emettre_saves_the_changes_first(parent, combs):
    draft = factories.draft(parent.family, lines=[("Piano", "186.00")])
    line = draft.lines.get()
    staff = secretary(combs)
    data = {
        "site": combs.pk,
        "family": parent.family.pk,
        "kind": "invoice",
        "label": "Cotisations corrigées",
        "due_date": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": line.pk,
        "lines-0-invoice": draft.pk,
        "lines-0-position": "0",
        "lines-0-label": "Piano",
        "lines-0-explanation": "",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "186.00",
        "_issue": "Émettre…",
    }
    response = staff.post(change_url(draft), data)
    assert response.status_code == 302 and response["Location"] == issue_url(draft)
    draft.refresh_from_db()
    assert (draft.label, draft.status, str(draft.total)) == (
        "Cotisations corrigées",
        Invoice.Status.DRAFT,
        "372.00",
    )
    # A mistake in the form: shown there, nothing issued nor saved.
    data["lines-0-quantity"] = "-1"
    data["label"] = "Autre"
    mistake = staff.post(change_url(draft), data)
    assert mistake.status_code == 200
    assert "La quantité doit être supérieure à zéro." in mistake.text
    draft.refresh_from_db()
    assert (draft.label, draft.status) == ("Cotisations corrigées", Invoice.Status.DRAFT)


def test_a_new_invoice_is_saved_then_confirmed_before_it_is_issued(parent, combs):
    response = secretary(combs).post(
        reverse("admin:billing_invoice_add"),
        {
            "site": combs.pk,
            "family": parent.family.pk,
            "kind": "invoice",
            "label": "Stage d’orchestre",
            "due_date": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-position": "0",
            "lines-0-label": "Stage",
            "lines-0-explanation": "",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "60.00",
            "_issue": "Émettre…",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == issue_url(invoice)
    assert (invoice.status, str(invoice.total)) == (Invoice.Status.DRAFT, "60.00")


def test_an_empty_draft_is_not_issued_and_says_why(parent, combs):
    empty = Invoice.objects.create(site=combs, family=parent.family, label="Vide")
    response = secretary(combs).post(issue_url(empty), follow=True)
    assert messages_of(response) == [
        "Brouillon (facture)\u00a0: Vide\u00a0: Une facture sans ligne ne peut pas être émise."
    ]
    assert Invoice.objects.get(pk=empty.pk).status == Invoice.Status.DRAFT


def test_an_issued_invoice_is_not_issued_again(parent, combs):
    invoice = factories.issued(parent.family)
    response = secretary(combs).post(issue_url(invoice), follow=True)
    assert messages_of(response) == [f"{invoice.number} est déjà émise."]
    assert Invoice.objects.issued().count() == 1


def test_emettre_needs_the_change_permission_and_a_csrf_token(parent, combs):
    draft = factories.draft(parent.family)
    viewer = secretary(combs, "viewer", ["view_invoice", "view_invoiceline"])
    assert 'name="_issue"' not in viewer.get(change_url(draft)).text
    assert viewer.get(issue_url(draft)).status_code == 403
    assert viewer.post(issue_url(draft)).status_code == 403
    user = factories.staff(combs, SECRETARIAT_PERMISSIONS, username="checked")
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(user)
    assert checked.post(issue_url(draft)).status_code == 403
    assert Invoice.objects.get(pk=draft.pk).status == Invoice.Status.DRAFT


def test_staff_of_another_site_get_a_404(parent, combs, ploufragan):
    draft = factories.draft(parent.family)
    stranger = secretary(ploufragan, "ploufragan")
    assert stranger.get(issue_url(draft)).status_code == 404
    assert stranger.post(issue_url(draft)).status_code == 404
    assert stranger.get(preview_url(draft)).status_code == 404
    assert Invoice.objects.get(pk=draft.pk).status == Invoice.Status.DRAFT


# The draft's PDF.


def test_the_draft_preview_is_marked_and_never_stored_nor_sent(
    parent, combs, parent_client, django_capture_on_commit_callbacks
):
    factories.payer(parent.family)
    draft = factories.draft(parent.family, lines=[("Cursus complet", "1186.00")])
    staff = secretary(combs)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff.get(preview_url(draft))
    assert callbacks == []
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response)
    assert "Brouillon" in text and "Facture (brouillon)" in text
    assert "FAC" not in text  # No number.
    assert "Cursus complet" in text and "1 186,00 €" in text
    assert "12 rue des Tilleuls" in text and combs.name in text
    draft.refresh_from_db()
    assert not draft.pdf and draft.family_address == "" and draft.status == "draft"
    assert mail.outbox == [] and not DBTaskResult.objects.exists()
    # Not the family's to see.
    assert parent_client.get(reverse("billing:invoice_pdf", args=[draft.pk])).status_code == 404


def test_an_issued_invoice_has_no_draft_mark_nor_preview(parent, combs):
    invoice = factories.issued(parent.family, lines=[("Cursus complet", "1186.00")])
    staff = secretary(combs)
    assert staff.get(preview_url(invoice)).status_code == 404
    text = pdf_text(staff.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk])))
    assert f"Facture n° {invoice.number}" in text
    assert "Brouillon" not in text and "brouillon" not in text
    page = staff.get(change_url(invoice))
    assert preview_url(invoice) not in page.text


def test_the_lines_editor_names_each_field(parent, combs):
    draft = factories.draft(parent.family)
    page = secretary(combs).get(change_url(draft)).text
    for name in ["label", "quantity", "unit_price"]:
        assert f'name="lines-0-{name}"' in page
    assert 'aria-label="Quantité"' in page and 'aria-label="Prix unitaire"' in page
    assert "/static/css/billing-admin.css" in page
