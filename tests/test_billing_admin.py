"""The secretariat's billing screens."""

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

from django.urls import reverse

from billing import ledger
from billing.models import Invoice, OnlinePayment, Payment, PaymentGateway

from . import billing_data
from .test_billing import secretary


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "mailto:", "tel:")):
            self.hrefs.append(href)


def links_of(page, base):
    parser = Links()
    parser.feed(page)
    return sorted({urljoin(base, href) for href in parser.hrefs})


def test_no_link_of_the_billing_change_pages_is_dead_for_the_secretary(parent, combs):
    invoice = billing_data.issued(parent.family)
    draft = billing_data.draft(parent.family)
    note = ledger.make_credit_note(invoice)
    payment = ledger.record_payment(
        parent.family, Decimal("10.00"), Payment.Mode.CHEQUE, [(invoice, Decimal("10.00"))]
    )
    online = OnlinePayment.objects.create(
        site=combs,
        family=parent.family,
        backend=PaymentGateway.Backend.DUMMY,
        reference="abc",
        amount=Decimal("176.00"),
        expires_at=payment.created_at,
    )
    staff = secretary(combs)
    pages = [
        reverse(f"admin:billing_{model}_change", args=[pk])
        for model, pk in [
            ("invoice", invoice.pk),
            ("invoice", draft.pk),
            ("invoice", note.pk),
            ("payment", payment.pk),
            ("familyaccount", parent.family.pk),
            ("onlinepayment", online.pk),
        ]
    ]
    followed = set()
    for page in pages:
        response = staff.get(page)
        assert response.status_code == 200, page
        for url in links_of(response.text, page):
            if url in followed:
                continue
            followed.add(url)
            target = staff.get(url, follow=True)
            # 403: a screen the secretary's permissions do not open, not a dead link.
            assert target.status_code in {200, 403}, (page, url, target.status_code)
    assert reverse("admin:billing_invoice_pdf", args=[invoice.pk]) in followed


def view_on_site_link(page):
    found = re.findall(r'<a href="([^"]+)" class="viewsitelink"', page)
    return found[0] if found else None


def test_view_on_site_opens_the_issued_invoice_pdf_and_is_absent_on_a_draft(parent, combs):
    invoice = billing_data.issued(parent.family)
    draft = billing_data.draft(parent.family)
    staff = secretary(combs)
    link = view_on_site_link(
        staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).text
    )
    assert link is not None
    response = staff.get(link, follow=True)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        view_on_site_link(staff.get(reverse("admin:billing_invoice_change", args=[draft.pk])).text)
        is None
    )


def test_the_family_statement_in_the_admin(parent, combs):
    invoice = billing_data.issued(parent.family, lines=[("Cours", "1186.00")])
    ledger.record_payment(
        parent.family,
        Decimal("100.00"),
        Payment.Mode.CHEQUE,
        [(invoice, Decimal("100.00"))],
        reference="0001234",
    )
    staff = secretary(combs)
    page = staff.get(reverse("admin:billing_familyaccount_change", args=[parent.family.pk]))
    text = page.text.replace("\u202f", " ").replace("\u00a0", " ")
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", text, re.S)
    assert len(rows) == 2
    assert invoice.number in rows[0] + rows[1] and "0001234" in rows[0] + rows[1]
    assert re.search(r"<dt>Solde</dt><dd>-1 086,00 €</dd>", text)
    assert "/static/css/billing-admin.css" in text
    assert staff.get("/static/css/billing-admin.css").status_code == 200


BILLING_TEMPLATES = Path(__file__).resolve().parent.parent / "billing" / "templates"
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)


def test_no_inline_style_in_billing_templates_nor_admin_screens(parent, combs):
    # The CSP forbids inline style (the e-mails are not pages, and are left out).
    templates = [path for path in BILLING_TEMPLATES.rglob("*.html") if "emails" not in path.parts]
    assert templates
    assert [path.name for path in templates if STYLE_ATTRIBUTE.search(path.read_text())] == []
    invoice = billing_data.issued(parent.family)
    payment = ledger.record_payment(
        parent.family, Decimal("10.00"), Payment.Mode.CHEQUE, [(invoice, Decimal("10.00"))]
    )
    staff = secretary(combs)
    for url in [
        reverse("admin:billing_familyaccount_change", args=[parent.family.pk]),
        reverse("admin:billing_invoice_change", args=[invoice.pk]),
        reverse("admin:billing_payment_change", args=[payment.pk]),
        reverse("admin:billing_invoice_add"),
        reverse("admin:billing_payment_add"),
        reverse("admin:billing_invoice_changelist"),
    ]:
        page = staff.get(url)
        assert page.status_code == 200 and not STYLE_ATTRIBUTE.search(page.text), url


def test_a_credit_note_on_a_wholly_credited_invoice_is_refused_with_a_message(parent, combs):
    invoice = billing_data.issued(parent.family)
    ledger.issue(ledger.make_credit_note(invoice))
    staff = secretary(combs)
    response = staff.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "make_credit_note", "_selected_action": [invoice.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"La facture {invoice.number} est déjà entièrement couverte par des avoirs."
    ]
    assert Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).count() == 1
