"""Cheque deposit slips (bordereaux de remise de chèques): the cheques not yet
deposited gathered on a numbered slip, each cheque on one slip only, the slip
printed for the bank."""

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from pypdf import PdfReader

from billing import deposits, ledger
from billing.demo import SECRETARIAT_PERMISSIONS
from billing.models import ChequeDeposit, Payment
from extranet.formatting import eur

from . import factories
from .clock import TODAY
from .test_billing import run_together, wait_until_waiting_for_a_lock

YEAR = TODAY.year
CHANGELIST = "admin:billing_payment_changelist"


def flat(text):
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def pdf_text(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content[:5] == b"%PDF-"
    return flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def cheque(family, amount="186.00", number="0001234", bank="", drawer="", **fields):
    """A cheque settling a new invoice of the same amount."""
    invoice = factories.issued(family, lines=[("Piano", amount)])
    return ledger.record_payment(
        family,
        Decimal(amount),
        fields.pop("mode", Payment.Mode.CHEQUE),
        [(invoice, Decimal(amount))],
        reference=number,
        bank=bank,
        drawer=drawer,
        date=fields.pop("date", TODAY - timedelta(days=3)),
        **fields,
    )


def secretary(site, username="secretariat", permissions=SECRETARIAT_PERMISSIONS):
    return factories.signed_in(factories.staff(site, permissions, username=username))


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# Making a slip.


def test_a_slip_numbers_itself_per_site_and_marks_its_cheques(parent, other_parent):
    family = parent.family
    first = cheque(family, "1000.00", "1111111", bank="La Banque Postale")
    second = cheque(family, "186.00", "2222222", drawer="Josiane Martin")
    deposit = deposits.make_deposit(family.site, [first.pk, second.pk], "DGFiP – Trésor public")
    assert deposit.number == f"{YEAR}REM0001"
    assert set(deposit.cheques.values_list("pk", flat=True)) == {first.pk, second.pk}
    found = deposits.with_totals(ChequeDeposit.objects.filter(pk=deposit.pk)).get()
    assert (found.count, found.total) == (2, Decimal("1186.00"))
    later = deposits.make_deposit(
        family.site, [cheque(family, number="3333333").pk], "DGFiP – Trésor public"
    )
    assert later.number == f"{YEAR}REM0002"
    elsewhere = deposits.make_deposit(
        other_parent.family.site, [cheque(other_parent.family).pk], "Crédit Mutuel de Bretagne"
    )
    assert elsewhere.number == f"{YEAR}REM0001"  # Each site its own sequence.


def test_a_cheque_is_never_on_two_slips(parent):
    first = cheque(parent.family)
    deposit = deposits.make_deposit(parent.family.site, [first.pk], "DGFiP")
    other = cheque(parent.family, number="7654321")
    with pytest.raises(ValidationError) as refused:
        deposits.make_deposit(parent.family.site, [other.pk, first.pk], "DGFiP")
    assert refused.value.messages == [
        f"{first.receipt_number} est déjà sur le bordereau {deposit.number}."
    ]
    # All or nothing: the other cheque waits for the next slip, and no number was used.
    assert Payment.objects.get(pk=other.pk).deposit is None
    assert deposits.make_deposit(parent.family.site, [other.pk], "DGFiP").number.endswith("REM0002")


def test_only_the_sites_own_cheques_not_rejected_go_on_a_slip(parent, other_parent):
    site = parent.family.site
    cash = cheque(parent.family, number="", mode=Payment.Mode.CASH)
    foreign = cheque(other_parent.family)
    rejected = cheque(parent.family, number="5555555")
    ledger.reverse_payment(rejected, TODAY, "", "Chèque sans provision")
    for payment, message in [
        (cash, f"{cash.receipt_number} n’est pas un chèque (espèces)."),
        (foreign, f"{foreign.receipt_number} appartient à un autre site."),
        (
            rejected,
            f"{rejected.receipt_number} a été rejeté le {TODAY:%d/%m/%Y}\u00a0: "
            "il n’est pas remis en banque.",
        ),
    ]:
        with pytest.raises(ValidationError) as refused:
            deposits.make_deposit(site, [payment.pk], "DGFiP")
        assert refused.value.messages == [message]
    with pytest.raises(ValidationError) as refused:
        deposits.make_deposit(site, [], "DGFiP")
    assert refused.value.messages == ["Sélectionnez au moins un chèque."]
    assert not ChequeDeposit.objects.exists()


def test_a_slip_is_not_dated_before_its_cheques(parent):
    payment = cheque(parent.family, date=TODAY)
    with pytest.raises(ValidationError) as refused:
        deposits.make_deposit(
            parent.family.site, [payment.pk], "DGFiP", date=TODAY - timedelta(days=1)
        )
    assert refused.value.message_dict == {
        "date": [f"Un chèque ne peut pas être remis avant d’avoir été reçu ({TODAY:%d/%m/%Y})."]
    }
    assert not ChequeDeposit.objects.exists()


def test_the_database_keeps_other_payments_off_slips(parent):
    deposit = deposits.make_deposit(parent.family.site, [cheque(parent.family).pk], "DGFiP")
    cash = cheque(parent.family, number="", mode=Payment.Mode.CASH)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=cash.pk).update(deposit=deposit)


def test_a_rejected_cheque_stays_on_its_slip(parent, combs):
    kept = cheque(parent.family, "1000.00", "1111111")
    bounced = cheque(parent.family, "186.00", "2222222")
    deposit = deposits.make_deposit(combs, [kept.pk, bounced.pk], "DGFiP")
    ledger.reverse_payment(bounced, TODAY, "", "Chèque sans provision")
    assert Payment.objects.get(pk=bounced.pk).deposit == deposit
    staff = secretary(combs)
    text = pdf_text(staff.get(reverse("admin:billing_chequedeposit_pdf", args=[deposit.pk])))
    assert "2222222" in text and "1 186,00 €" in text
    page = staff.get(reverse("admin:billing_chequedeposit_change", args=[deposit.pk]))
    assert TODAY.strftime("%d/%m/%Y") in page.text  # The rejection, shown beside it.


@pytest.mark.django_db(transaction=True)
def test_two_secretaries_making_slips_at_once_put_a_cheque_on_one(combs):
    parent = factories.make_parent(combs)
    cheques = [cheque(parent.family, number=f"00000{n}") for n in range(4)]
    ids = [c.pk for c in cheques]
    # Two slips over the same cheques, and two over half of them each way round.
    errors = run_together(
        [
            lambda: deposits.make_deposit(combs, ids, "DGFiP"),
            lambda: deposits.make_deposit(combs, ids[::-1], "DGFiP"),
            lambda: deposits.make_deposit(combs, ids[:2], "DGFiP"),
            lambda: deposits.make_deposit(combs, ids[2:], "DGFiP"),
        ]
    )
    deposited = Payment.objects.filter(pk__in=ids, deposit__isnull=False)
    assert deposited.count() == 4
    made = list(ChequeDeposit.objects.order_by("number"))
    # Each cheque on one slip; every slip made whole, the others refused whole.
    assert sum(d.cheques.count() for d in made) == 4
    assert len(errors) == 4 - len(made) and all(
        error.code == "refused" for e in errors for error in e.error_list
    )
    assert [d.number for d in made] == [f"{YEAR}REM{n:04d}" for n in range(1, len(made) + 1)]


@pytest.mark.django_db(transaction=True)
def test_two_slips_waiting_for_the_same_cheques_take_them_once(combs):
    parent = factories.make_parent(combs)
    ids = [cheque(parent.family, number=f"00000{n}").pk for n in range(2)]
    refused = []

    def make():
        try:
            deposits.make_deposit(combs, ids, "DGFiP")
        except ValidationError as error:
            refused.append(error.messages)
        finally:
            connections.close_all()

    if connection.vendor != "postgresql":  # SQLite serialises writers.
        make()
        make()
    else:
        # Both secretaries are held at the cheques' rows, then let go at once.
        with transaction.atomic():
            list(Payment.objects.select_for_update().filter(pk__in=ids))
            first, second = threading.Thread(target=make), threading.Thread(target=make)
            first.start()
            second.start()
            wait_until_waiting_for_a_lock(2)
        first.join()
        second.join()
    assert len(refused) == 1 and len(refused[0]) == 2
    assert ChequeDeposit.objects.get().cheques.count() == 2


# The secretariat's screens.


def test_the_payments_list_filters_the_cheques_to_deposit(parent, combs):
    waiting = cheque(parent.family, number="1111111")
    deposited = cheque(parent.family, number="2222222")
    deposits.make_deposit(combs, [deposited.pk], "DGFiP")
    cash = cheque(parent.family, number="", mode=Payment.Mode.CASH)
    staff = secretary(combs)
    listing = staff.get(reverse(CHANGELIST), {"remise": "no"})
    assert [p.pk for p in listing.context["cl"].result_list] == [waiting.pk]
    listing = staff.get(reverse(CHANGELIST), {"remise": "yes"})
    assert [p.pk for p in listing.context["cl"].result_list] == [deposited.pk]
    assert "chèques à remettre" in staff.get(reverse(CHANGELIST)).text
    assert cash.pk not in [p.pk for p in listing.context["cl"].result_list]
    # The deposits' "add" starts from there.
    added = staff.get(reverse("admin:billing_chequedeposit_add"))
    assert added.status_code == 302 and added["Location"].endswith("?remise=no")


def test_the_secretary_makes_and_prints_a_slip(parent, combs, tmp_path):
    from .test_html_valid import validate

    first = cheque(parent.family, "1000.00", "1111111", bank="La Banque Postale")
    second = cheque(parent.family, "186.00", "2222222", drawer="Josiane Martin")
    staff = secretary(combs)
    url = reverse(CHANGELIST) + "?remise=no"
    selection = {"action": "make_deposit_slip", "_selected_action": [first.pk, second.pk]}
    confirm = staff.post(url, selection)
    assert confirm.status_code == 200
    text = flat(confirm.text)
    assert "ces 2 chèques, 1 186,00 € en tout" in text
    assert "Josiane Martin" in text and "La Banque Postale" in text
    assert not ChequeDeposit.objects.exists()

    # Nothing said where: the field says why, nothing is made.
    empty = staff.post(url, {**selection, "confirm": "yes", "date": "", "bank": ""})
    assert empty.status_code == 200
    assert empty.context["form"].errors == {
        "date": ["Ce champ est obligatoire."],
        "bank": ["Ce champ est obligatoire."],
    }
    assert 'id="id_bank_error"' in empty.text
    too_long = staff.post(
        url, {**selection, "confirm": "yes", "date": TODAY.isoformat(), "bank": "B" * 81}
    )
    assert too_long.context["form"].errors["bank"] == [
        "Assurez-vous que cette valeur comporte au plus 80 caractères (actuellement 81)."
    ]
    malformed = staff.post(
        url, {**selection, "confirm": "yes", "date": "31/02/2026", "bank": "DGFiP"}
    )
    assert malformed.context["form"].errors["date"] == ["Saisissez une date valide."]
    too_early = staff.post(
        url,
        {
            **selection,
            "confirm": "yes",
            "date": (TODAY - timedelta(days=30)).isoformat(),
            "bank": "DGFiP",
        },
    )
    assert (
        too_early.context["form"]
        .errors["date"][0]
        .startswith("Un chèque ne peut pas être remis avant d’avoir été reçu")
    )
    assert validate({"confirm": confirm.text, "errors": empty.text}, tmp_path) == []
    assert not ChequeDeposit.objects.exists()

    made = staff.post(
        url,
        {
            **selection,
            "confirm": "yes",
            "date": TODAY.isoformat(),
            "bank": "DGFiP – Trésor public <script>",
            "account": "FR76 1007 1750 0000 0010 0012 345",
        },
        follow=True,
    )
    deposit = ChequeDeposit.objects.get()
    assert made.redirect_chain[-1][0] == reverse(
        "admin:billing_chequedeposit_change", args=[deposit.pk]
    )
    assert messages_of(made) == [
        f"Bordereau {YEAR}REM0001 fait\u00a0: 2 chèques, 1\u202f186,00\u00a0€."
    ]
    assert "&lt;script&gt;" in made.text and "<script>" not in made.text.split("</head>")[1]
    assert deposit.created_by.username == "secretariat"
    assert set(Payment.objects.filter(deposit=deposit).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert validate({"deposit": made.text}, tmp_path) == []

    pdf = staff.get(reverse("admin:billing_chequedeposit_pdf", args=[deposit.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf)
    assert f"Bordereau de remise de chèques n° {YEAR}REM0001" in text
    assert combs.name in text and "DGFiP – Trésor public <script>" in text
    assert "FR76 1007 1750 0000 0010 0012 345" in text
    assert TODAY.strftime("%d/%m/%Y") in text
    for expected in ["1111111", "2222222", "La Banque Postale", "Josiane Martin", "Martin"]:
        assert expected in text, expected
    assert "1 000,00 €" in text and "186,00 €" in text
    assert "Nombre de chèques : 2 – montant total : 1 186,00 €" in text

    # Selected again: refused, with the slip that has them.
    again = staff.post(url.split("?")[0], selection, follow=True)
    assert messages_of(again) == [
        "Seuls les chèques pas encore remis vont sur un bordereau\u00a0; aucun bordereau "
        "n’a été fait.",
        f"{first.receipt_number} est déjà sur le bordereau {YEAR}REM0001.",
        f"{second.receipt_number} est déjà sur le bordereau {YEAR}REM0001.",
    ]
    assert ChequeDeposit.objects.count() == 1


def test_the_bank_of_the_last_slip_is_offered_again(parent, combs):
    deposits.make_deposit(combs, [cheque(parent.family).pk], "DGFiP", account="123")
    waiting = cheque(parent.family, number="7777777")
    page = secretary(combs).post(
        reverse(CHANGELIST), {"action": "make_deposit_slip", "_selected_action": [waiting.pk]}
    )
    assert page.context["form"].initial == {"bank": "DGFiP", "account": "123"}


def test_a_mixed_selection_makes_nothing_and_says_why(parent, combs):
    good = cheque(parent.family, number="1111111")
    cash = cheque(parent.family, number="", mode=Payment.Mode.CASH)
    response = secretary(combs).post(
        reverse(CHANGELIST),
        {"action": "make_deposit_slip", "_selected_action": [good.pk, cash.pk]},
        follow=True,
    )
    assert messages_of(response)[1:] == [f"{cash.receipt_number} n’est pas un chèque (espèces)."]
    assert not ChequeDeposit.objects.exists()


def test_another_sites_cheque_cannot_be_slipped_in(parent, other_parent, combs):
    own = cheque(parent.family)
    foreign = cheque(other_parent.family)
    staff = secretary(combs)
    for selected in [[foreign.pk], [own.pk, foreign.pk]]:
        response = staff.post(
            reverse(CHANGELIST),
            {
                "action": "make_deposit_slip",
                "_selected_action": selected,
                "confirm": "yes",
                "date": TODAY.isoformat(),
                "bank": "DGFiP",
            },
            follow=True,
        )
        assert messages_of(response)[-1] in {
            "Sélectionnez au moins un chèque.",
            "Un règlement sélectionné appartient à un autre site.",
        }
    assert not ChequeDeposit.objects.exists()


def test_making_a_slip_needs_the_permission(parent, combs):
    payment = cheque(parent.family)
    viewer = secretary(
        combs,
        permissions=["view_payment", "view_chequedeposit"],
    )
    listing = viewer.get(reverse(CHANGELIST))
    assert "make_deposit_slip" not in listing.text
    response = viewer.post(
        reverse(CHANGELIST),
        {
            "action": "make_deposit_slip",
            "_selected_action": [payment.pk],
            "confirm": "yes",
            "date": TODAY.isoformat(),
            "bank": "DGFiP",
        },
    )
    assert response.status_code in {200, 302}
    assert not ChequeDeposit.objects.exists()
    assert viewer.get(reverse("admin:billing_chequedeposit_add")).status_code == 403


def test_staff_of_another_site_get_a_404(parent, combs, ploufragan):
    deposit = deposits.make_deposit(combs, [cheque(parent.family).pk], "DGFiP")
    stranger = secretary(ploufragan, username="ploufragan")
    for name in ["admin:billing_chequedeposit_change", "admin:billing_chequedeposit_pdf"]:
        assert stranger.get(reverse(name, args=[deposit.pk])).status_code == 404
    listing = stranger.get(reverse("admin:billing_chequedeposit_changelist"))
    assert list(listing.context["cl"].result_list) == []
    owner = secretary(combs)
    for name in ["admin:billing_chequedeposit_change", "admin:billing_chequedeposit_pdf"]:
        assert owner.get(reverse(name, args=[deposit.pk])).status_code == 200


def test_a_slip_is_neither_changed_nor_deleted(parent, combs):
    deposit = deposits.make_deposit(combs, [cheque(parent.family).pk], "DGFiP")
    staff = secretary(combs)
    url = reverse("admin:billing_chequedeposit_change", args=[deposit.pk])
    staff.post(url, {"bank": "Autre"})
    assert ChequeDeposit.objects.get().bank == "DGFiP"
    delete = reverse("admin:billing_chequedeposit_delete", args=[deposit.pk])
    assert staff.get(delete).status_code == 403
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    assert ChequeDeposit.objects.exists()


@pytest.mark.parametrize("count", [1, 8])
def test_deposit_pages_queries_do_not_grow(parent, combs, count, django_assert_max_num_queries):
    cheques = [cheque(parent.family, number=f"{n:07d}") for n in range(count)]
    deposit = deposits.make_deposit(combs, [c.pk for c in cheques], "DGFiP")
    deposits.make_deposit(combs, [cheque(parent.family, number="9999999").pk], "DGFiP")
    waiting = [cheque(parent.family, number=f"8{n:06d}") for n in range(count)]
    staff = secretary(combs)
    staff.get(reverse("admin:billing_chequedeposit_changelist"))  # Session warmed up.
    with django_assert_max_num_queries(9):
        listing = staff.get(reverse("admin:billing_chequedeposit_changelist"))
    assert listing.status_code == 200
    assert eur(Decimal("186.00") * count) in listing.text
    with django_assert_max_num_queries(8):
        page = staff.get(reverse("admin:billing_chequedeposit_change", args=[deposit.pk]))
    assert all(c.reference in page.text for c in cheques)
    with django_assert_max_num_queries(6):
        pdf = staff.get(reverse("admin:billing_chequedeposit_pdf", args=[deposit.pk]))
    assert f"{count} chèque" in pdf_text(pdf)
    with django_assert_max_num_queries(14):
        confirm = staff.post(
            reverse(CHANGELIST),
            {"action": "make_deposit_slip", "_selected_action": [c.pk for c in waiting]},
        )
    assert confirm.status_code == 200 and len(confirm.context["cheques"]) == count
    with django_assert_max_num_queries(16):
        listing = staff.get(reverse(CHANGELIST), {"remise": "no"})
    assert len(listing.context["cl"].result_list) == count


def test_the_demo_has_cheques_to_deposit(demo):
    for site in demo.values():
        waiting = list(deposits.undeposited(Payment.objects.filter(site=site)))
        assert waiting, site
        assert all(p.reference and p.bank for p in waiting)
        # Dated before today, as the slip made today must be.
        deposit = deposits.make_deposit(site, [p.pk for p in waiting], "DGFiP")
        assert deposit.cheques.count() == len(waiting)


def test_a_whole_page_selected_by_mistake_lists_ten_refusals_then_how_many_more(parent, combs):
    good = cheque(parent.family, number="1111111")
    cash = [
        cheque(parent.family, amount="5.00", number="", mode=Payment.Mode.CASH) for _ in range(12)
    ]
    response = secretary(combs).post(
        reverse(CHANGELIST),
        {"action": "make_deposit_slip", "_selected_action": [good.pk, *(c.pk for c in cash)]},
        follow=True,
    )
    said = messages_of(response)
    assert len(said) == 1 + 10 + 1
    assert said[-1].startswith("… et 2 autres règlements.")
    assert "chèques à remettre" in said[-1]
    assert not ChequeDeposit.objects.exists()
