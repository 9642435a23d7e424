"""The Facturation tab's « Recherche »: text (label, invoice or operation
number) and dates (du, au), besides the school year; overdue invoices marked
« en retard »; bad dates answered next to their field."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import ledger
from billing.models import Payment
from tests import clock
from tests.factories import draft, issued, make_parent
from tests.test_html_valid import validate

pytestmark = pytest.mark.django_db

URL = reverse("billing:statement")


def get(client, **params):
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="fr")


def labels(page):
    return [line.label for line in page.context["lines"]]


@pytest.fixture
def account(parent):
    """An invoice due a week ago (overdue), one due in a month, a cheque."""
    today = clock.TODAY
    piano = ledger.issue(
        draft(parent.family, label="Piano Hugo", due_date=today - timedelta(days=7)),
        today=today - timedelta(days=40),
    )
    dance = issued(parent.family, label="Danse Léa", due_date=today + timedelta(days=30))
    payment = ledger.record_payment(
        parent.family,
        Decimal("50.00"),
        Payment.Mode.CHEQUE,
        [(dance, Decimal("50.00"))],
        reference="CHQ7788",
        date=today - timedelta(days=3),
    )
    return piano, dance, payment


def test_text_finds_label_invoice_number_and_operation_number(parent_client, account):
    piano, dance, payment = account
    assert labels(get(parent_client, q="piano")) == ["FACTURE – Piano Hugo"]
    assert labels(get(parent_client, q=f"  {dance.number.lower()} ")) == ["FACTURE – Danse Léa"]
    assert labels(get(parent_client, q="chq7788")) == ["RÈGLEMENT"]
    page = get(parent_client, q="violoncelle")
    assert page.context["lines"] == []
    assert "Aucune ligne ne correspond à la recherche." in page.text
    # The totals stay the account's.
    assert page.context["billed"] == Decimal("372.00")


def test_dates_bound_the_lines(parent_client, account):
    today = clock.TODAY
    since = (today - timedelta(days=5)).isoformat()
    assert sorted(labels(get(parent_client, du=since))) == ["FACTURE – Danse Léa", "RÈGLEMENT"]
    until = (today - timedelta(days=5)).strftime("%d/%m/%Y")  # typed the French way
    assert labels(get(parent_client, au=until)) == ["FACTURE – Piano Hugo"]
    both = get(parent_client, du=since, au=today.isoformat(), q="règlement")
    assert labels(both) == ["RÈGLEMENT"]
    assert "1\u00a0ligne trouvée." in both.text or "1 ligne trouvée." in both.text


def test_bad_dates_answered_next_to_the_field_the_rest_applies(parent_client, account, tmp_path):
    page = get(parent_client, du="31/02/2026", q="piano")
    assert page.status_code == 200
    form = page.context["search"]
    assert form.errors["du"] == ["Saisissez une date valide, par exemple 15/09/2026."]
    assert labels(page) == ["FACTURE – Piano Hugo"]
    assert 'aria-describedby="' in page.text and "Saisissez une date valide" in page.text
    reversed_range = get(
        parent_client, du=clock.TODAY.isoformat(), au=(clock.TODAY - timedelta(days=1)).isoformat()
    )
    assert reversed_range.context["search"].errors["au"] == [
        "Cette date est antérieure à la date de début."
    ]
    # The "du" bound still applies: only what is dated today.
    assert labels(reversed_range) == ["FACTURE – Danse Léa"]
    validate({"search-bad": page.text, "search-range": reversed_range.text}, tmp_path)


def test_overdue_invoices_marked_en_retard(parent_client, account, tmp_path):
    piano, dance, _ = account
    page = get(parent_client)
    overdue = {line.number: line.overdue for line in page.context["lines"] if line.url}
    assert overdue[piano.number] is True and overdue[dance.number] is False
    assert page.text.count('class="badge badge-overdue">en retard</span>') == 2  # line + to pay
    assert "Recherche" in page.text and 'name="q"' in page.text
    validate({"statement-search": page.text}, tmp_path)


def test_another_familys_invoice_is_never_found(parent_client, parent, combs, account):
    neighbour = make_parent(combs, username="voisin", family_name="Voisin")
    theirs = issued(neighbour.family, label="Piano voisin")
    for query in ({"q": theirs.number}, {"q": "voisin"}, {"q": ""}):
        page = get(parent_client, **query)
        assert reverse("billing:invoice_pdf", args=[theirs.pk]) not in page.text
        assert "Piano voisin" not in page.text
        assert all(line.number != theirs.number for line in page.context["lines"])


def test_the_neighbour_sees_only_their_own(combs, account):
    from django.test import Client

    neighbour = make_parent(combs, username="voisin", family_name="Voisin")
    client = Client()
    client.force_login(neighbour)
    page = get(client, q="piano")
    assert page.context["lines"] == []
    assert account[0].number not in page.text


def test_search_adds_no_query(parent_client, parent, account, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        get(parent_client)
    # At most as many: the statement's data may come from the cache.
    with django_assert_max_num_queries(len(plain.captured_queries)):
        get(parent_client, q="piano", du="01/01/2020", au="bad")
