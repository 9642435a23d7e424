"""What the bank returns: a camt.054 (BkToCstmrDbtCdtNtfctn) listing the
debits it did not pay. The whole file is read and checked first; only a
file of this site's creditor whose every return is one of this site's
debits is applied, in one transaction."""

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from lxml import etree

from extranet.formatting import eur
from extranet.money import money

from .models import Creditor, Debit, ReturnFile
from .rejections import RejectionRefused, reason_of, reject

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.\d{2}$")
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Return:
    end_to_end_id: str
    amount: Decimal
    date: date
    reason_code: str


@dataclass
class Notice:
    message_id: str
    ibans: list
    creditor_ids: list
    returns: list
    ignored: int


def refused(message, code):
    return ValidationError(message, code=code)


def parse(content):
    """The returns of a camt.054, as bytes; a ValidationError in French
    for anything else. No network, no DTD, no entity is ever resolved."""
    if len(content) > MAX_BYTES:
        raise refused(
            _("This file is too large for a bank return file (%(max)d MB at most).")
            % {"max": MAX_BYTES // (1024 * 1024)},
            "too_large",
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except (etree.XMLSyntaxError, ValueError):
        raise refused(
            _("This file is not an XML file: choose the camt.054 file the bank sent."), "not_xml"
        ) from None
    if root.getroottree().docinfo.doctype:
        raise refused(_("This XML file declares a DTD: it is not a bank file."), "doctype")
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "Document" or not NAMESPACE.match(namespace):
        raise refused(
            _(
                "This XML file is not a camt.054 debit and credit notification: "
                "choose the file of rejected debits the bank sent."
            ),
            "not_camt054",
        )
    ns = {"c": namespace}
    body = root.find("c:BkToCstmrDbtCdtNtfctn", ns)
    if body is None:
        raise refused(_("This camt.054 file holds no notification."), "not_camt054")
    message_id = (body.findtext("c:GrpHdr/c:MsgId", "", ns) or "").strip()
    ibans, creditor_ids, returns, ignored = [], [], [], 0
    for notification in body.findall("c:Ntfctn", ns):
        iban = "".join((notification.findtext("c:Acct/c:Id/c:IBAN", "", ns) or "").split())
        if iban:
            ibans.append(iban.upper())
        for entry in notification.findall("c:Ntry", ns):
            details = entry.findall("c:NtryDtls/c:TxDtls", ns)
            for found in entry.iterfind(".//c:Cdtr//c:PrvtId/c:Othr/c:Id", ns):
                creditor_ids.append("".join((found.text or "").split()).upper())
            for transaction_details in details:
                if transaction_details.find("c:RtrInf", ns) is None:
                    ignored += 1  # A credit or a debit that was paid: not a return.
                    continue
                returns.append(read_return(entry, transaction_details, len(details), ns))
    return Notice(message_id[:35], ibans, sorted(set(creditor_ids)), returns, ignored)


def read_return(entry, details, count, ns):
    end_to_end_id = (details.findtext("c:Refs/c:EndToEndId", "", ns) or "").strip()
    if not end_to_end_id:
        raise refused(_("A return of this file has no end-to-end id."), "no_id")
    amount = None
    for path in [
        "c:Amt",  # camt.054.001.04 and later
        "c:AmtDtls/c:TxAmt/c:Amt",
        "c:AmtDtls/c:InstdAmt/c:Amt",
    ]:
        amount = details.find(path, ns)
        if amount is not None:
            break
    if amount is None and count == 1:
        amount = entry.find("c:Amt", ns)
    if amount is None:
        raise refused(_("The return %(id)s has no amount.") % {"id": end_to_end_id}, "no_amount")
    if amount.get("Ccy", "EUR") != "EUR":
        raise refused(_("The return %(id)s is not in euros.") % {"id": end_to_end_id}, "not_euros")
    try:
        value = money(Decimal((amount.text or "").strip()))
    except InvalidOperation:
        raise refused(
            _("The amount of the return %(id)s cannot be read.") % {"id": end_to_end_id},
            "bad_amount",
        ) from None
    day = None
    for path in [
        "c:BookgDt/c:Dt",
        "c:BookgDt/c:DtTm",
        "c:ValDt/c:Dt",
        "c:ValDt/c:DtTm",
    ]:
        text = (entry.findtext(path, "", ns) or "").strip()
        if text:
            try:
                day = date.fromisoformat(text[:10])
            except ValueError:
                continue
            break
    if day is None:
        text = (details.findtext("c:RltdDts/c:IntrBkSttlmDt", "", ns) or "").strip()
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            raise refused(
                _("The return %(id)s has no date.") % {"id": end_to_end_id}, "no_date"
            ) from None
    code = (details.findtext("c:RtrInf/c:Rsn/c:Cd", "", ns) or "").strip().upper()
    if not code:
        code = (details.findtext("c:RtrInf/c:Rsn/c:Prtry", "", ns) or "").strip().upper()
    return Return(end_to_end_id, value, day, code[:4])


def check(notice, site):
    """Refuse (ValidationError in French) a file of another creditor or
    already imported, or one with end-to-end ids this site never sent."""
    creditor = Creditor.objects.filter(site=site).first()
    if creditor is None:
        raise refused(_("Enter the site's SEPA creditor details first."), "no_creditor")
    if not notice.ibans and not notice.creditor_ids:
        raise refused(
            _("This file names neither the account nor the creditor: it cannot be checked."),
            "anonymous",
        )
    if any(iban != creditor.iban for iban in notice.ibans):
        raise refused(
            _(
                "This file is about another account (%(iban)s), not the creditor's account "
                "of this site: nothing was imported."
            )
            % {"iban": ", ".join(sorted(set(notice.ibans) - {creditor.iban}))},
            "other_account",
        )
    if any(ics != creditor.ics for ics in notice.creditor_ids):
        raise refused(
            _(
                "This file is about another creditor (%(ics)s), not this site's ICS "
                "%(own)s: nothing was imported."
            )
            % {
                "ics": ", ".join(sorted(set(notice.creditor_ids) - {creditor.ics})),
                "own": creditor.ics,
            },
            "other_creditor",
        )
    if notice.message_id:
        earlier = ReturnFile.objects.filter(site=site, message_id=notice.message_id).first()
        if earlier is not None:
            raise refused(
                _("This file (message %(id)s) was already imported on %(date)s.")
                % {
                    "id": notice.message_id,
                    "date": date_format(
                        timezone.localtime(earlier.imported_at).date(), "SHORT_DATE_FORMAT"
                    ),
                },
                "already_imported",
            )
    if not notice.returns:
        raise refused(_("This file holds no rejected debit."), "empty")
    ids = [r.end_to_end_id for r in notice.returns]
    known = {
        d.end_to_end_id: d
        for d in Debit.objects.filter(batch__site=site, end_to_end_id__in=ids).select_related(
            "mandate__family"
        )
    }
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise refused(
            _(
                "These end-to-end ids are not debits of this site: %(ids)s. Nothing was "
                "imported: check with the bank that the file is this site's (the rejections "
                "can also be recorded one by one on each debit)."
            )
            % {"ids": ", ".join(unknown)},
            "unknown",
        )
    return known


def plan(notice, known):
    """(to apply, skipped): each return with its debit, or why it is left."""
    to_apply, skipped, seen = [], [], set()
    for item in notice.returns:
        debit = known[item.end_to_end_id]
        why = None
        if item.end_to_end_id in seen:
            why = _("twice in the file")
        elif debit.status == Debit.Status.REJECTED:
            why = _("already recorded as rejected")
        elif item.amount != debit.amount:
            why = _("the amount differs: %(bank)s in the file, %(debit)s debited") % {
                "bank": eur(item.amount),
                "debit": eur(debit.amount),
            }
        seen.add(item.end_to_end_id)
        if why:
            skipped.append(entry(item, debit, why))
        else:
            to_apply.append((item, debit))
    return to_apply, skipped


def entry(item, debit, why=""):
    row = {
        **asdict(item),
        "amount": str(item.amount),
        "date": item.date.isoformat(),
        "reason": reason_of(item.reason_code),
        "family": debit.mandate.family.name if debit else "",
    }
    if why:
        row["why"] = str(why)
    return row


def import_file(content, name, site, user=None, base_url=None):
    """Check the whole file, then apply it in one transaction; the
    ReturnFile recorded with its report. A refused file changes nothing
    and raises a ValidationError in French."""
    notice = parse(content)
    known = check(notice, site)
    base_url = settings.PORTAL_URL if base_url is None else base_url
    to_apply, skipped = plan(notice, known)
    applied = []
    with transaction.atomic():
        # Always in the same order: two imports at once cannot deadlock.
        for item, debit in sorted(to_apply, key=lambda pair: pair[1].pk):
            try:
                reject(debit, item.date, item.reason_code, user=user, base_url=base_url)
            except RejectionRefused as error:  # Another import was first.
                skipped.append(entry(item, debit, " ".join(error.messages)))
                continue
            applied.append(entry(item, debit))
        report = {
            "message_id": notice.message_id,
            "accounts": sorted(set(notice.ibans)),
            "creditor_ids": notice.creditor_ids,
            "returns": len(notice.returns),
            "ignored": notice.ignored,
            "applied": applied,
            "skipped": skipped,
        }
        return ReturnFile.objects.create(
            site=site,
            name=name[:200],
            message_id=notice.message_id,
            report=report,
            imported_by=user,
        )


def creditor_site(content):
    """For a network administrator (no site of her own): the site whose
    creditor account or ICS the file names; None if none or several."""
    notice = parse(content)
    sites = set(Creditor.objects.filter(iban__in=notice.ibans).values_list("site_id", flat=True))
    if not sites:
        sites = set(
            Creditor.objects.filter(ics__in=notice.creditor_ids).values_list("site_id", flat=True)
        )
    return sites.pop() if len(sites) == 1 else None
