"""The pain.008.001.02 file (SEPA Core direct debit initiation): written by
sepaxml, completed with the mandate amendments sepaxml does not write, then
validated against the official schema shipped with sepaxml."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import sepaxml
from lxml import etree
from sepaxml import SepaDD

SCHEMA = "pain.008.001.02"
NS = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
SCHEMA_PATH = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"
# "Same mandate, new debtor agent": the debtor moved to another bank.
SMNDA = "SMNDA"


class InvalidFile(ValueError):
    """The file does not follow the schema: never stored, never sent."""


@dataclass
class Transaction:
    end_to_end_id: str
    amount: Decimal
    sequence: str  # FRST or RCUR
    rum: str
    signed_on: date
    name: str
    iban: str
    bic: str
    description: str
    # {"original_iban": …, "original_bic": …, "new_bank": bool} when the
    # mandate's account changed since the bank last saw it.
    amendment: dict = field(default_factory=dict)


@cache
def schema():
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate(content):
    """Raise InvalidFile unless `content` (bytes) is a valid pain.008.001.02."""
    try:
        document = etree.fromstring(content)
    except etree.XMLSyntaxError as error:
        raise InvalidFile(str(error)) from error
    checker = schema()
    if not checker.validate(document):
        raise InvalidFile("; ".join(str(e) for e in list(checker.error_log)[:5]))


def cents(amount):
    return int(Decimal(amount) * 100)


def write(creditor, message_id, collection_date, transactions):
    """The file for `transactions` to collect on `collection_date`: one
    payment information block per sequence type (FRST, RCUR), validated."""
    config = {
        "name": creditor.name,
        "IBAN": creditor.iban,
        "BIC": creditor.bic,
        "batch": True,
        "creditor_id": creditor.ics,
        "currency": "EUR",
    }
    document = SepaDD(config, schema=SCHEMA, clean=True)
    for transaction in transactions:
        payment = {
            "name": transaction.name,
            "IBAN": transaction.iban,
            "amount": cents(transaction.amount),
            "type": transaction.sequence,
            "collection_date": collection_date,
            "mandate_id": transaction.rum,
            "mandate_date": transaction.signed_on,
            "description": transaction.description,
            "endtoend_id": transaction.end_to_end_id,
        }
        if transaction.bic:
            payment["BIC"] = transaction.bic
        document.add_payment(payment)
    root = etree.fromstring(document.export(validate=False))
    root.find(f"{{{NS}}}CstmrDrctDbtInitn/{{{NS}}}GrpHdr/{{{NS}}}MsgId").text = message_id
    amended = {t.end_to_end_id: t.amendment for t in transactions if t.amendment}
    if amended:
        for info in root.iter(f"{{{NS}}}DrctDbtTxInf"):
            end_to_end_id = info.findtext(f"{{{NS}}}PmtId/{{{NS}}}EndToEndId")
            if end_to_end_id in amended:
                add_amendment(info, amended[end_to_end_id])
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    validate(content)
    return content


def _element(parent, *path):
    for tag in path:
        parent = etree.SubElement(parent, f"{{{NS}}}{tag}")
    return parent


def add_amendment(info, amendment):
    """The amendment indicator and details after the mandate's date of
    signature. Per the EPC implementation guidelines, the original debtor
    account is given for a new account at the same bank; a new bank is
    reported as "SMNDA" in the original debtor agent (and the debit is a
    FRST)."""
    related = info.find(f"{{{NS}}}DrctDbtTx/{{{NS}}}MndtRltdInf")
    _element(related, "AmdmntInd").text = "true"
    details = _element(related, "AmdmntInfDtls")
    if amendment.get("new_bank"):
        _element(details, "OrgnlDbtrAgt", "FinInstnId", "Othr", "Id").text = SMNDA
    else:
        _element(details, "OrgnlDbtrAcct", "Id", "IBAN").text = amendment["original_iban"]
