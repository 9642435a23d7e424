"""Every e-mail: one frame (greeting, signature, HTML skeleton) shared by all,
and valid HTML as the worker sends it."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.template import engines
from django.template.loader_tags import ExtendsNode

from extranet.mail import build_message

from . import billing_data, reenrollment_data, students_data

PARIS = ZoneInfo("Europe/Paris")


def email_templates():
    """(name, extension) of every e-mail body template: not the subjects,
    not the partials (`_name`) they include."""
    roots = [Path(app.path) / "templates" for app in apps.get_app_configs()]
    roots += [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    found = []
    for root in roots:
        for path in sorted(root.glob("**/emails/*")):
            if path.suffix not in {".txt", ".html"} or path.name.startswith("_"):
                continue
            if path.stem.endswith("_subject") or path.stem == "base":
                continue
            found.append((path.relative_to(root).as_posix(), path.suffix))
    return found


def test_every_email_extends_the_base():
    templates = email_templates()
    names = {name for name, _ in templates}
    # The walk finds the e-mails of every app (guards against an empty walk).
    for expected in [
        "extranet/emails/invitation.txt",
        "families/emails/changes.html",
        "documents/emails/document_refused.txt",
        "extranet/emails/login_failures.txt",
        "reenrollment/emails/validated.txt",
        "billing/emails/receipt.html",
    ]:
        assert expected in names
    engine = engines["django"]
    for name, extension in templates:
        nodes = engine.get_template(name).template.nodelist
        extends = [node for node in nodes if isinstance(node, ExtendsNode)]
        assert extends, f"{name} does not extend the e-mail base"
        assert extends[0].parent_name.var == f"emails/base{extension}", name


def test_the_base_frames_text_and_html():
    from django.template.loader import render_to_string
    from django.utils import translation

    from extranet.models import Site

    site = Site(
        name="Conservatoire Maurice Ohana",
        phone="+33164887700",
        address="Rue Baptiste Marcet\n77380 Combs-la-Ville",
        email="conservatoire.combs@example.org",
    )
    with translation.override("fr"):
        text = render_to_string("emails/base.txt", {"site": site})
        html = render_to_string("emails/base.html", {"site": site, "LANGUAGE_CODE": "fr"})
    assert text.startswith("Bonjour,\n\n\n--\nConservatoire Maurice Ohana\n")
    for part in ["Rue Baptiste Marcet", "01 64 88 77 00", "conservatoire.combs@example.org"]:
        assert part in text and part in html
    assert '<html lang="fr">' in html and "<p>Bonjour,</p>" in html
    assert 'href="mailto:conservatoire.combs@example.org"' in html
    assert " style=" not in html  # Classes styled in the head, not style attributes.


def send_every_email(combs, parent):
    """Each e-mail of the portal, through the sending function a page or the
    admin calls."""
    from billing import ledger
    from billing.models import Payment
    from documents import emails as document_emails
    from extranet.tasks import notify_login_failures, send_invitation, send_password_reset
    from families import emails as family_emails
    from families.changes import Change
    from families.models import FamilyDocument
    from reenrollment import workflow
    from reenrollment.models import Wish

    base_url = "http://testserver"
    family = parent.family
    send_invitation.enqueue(parent.pk, base_url)
    send_password_reset.enqueue(parent.pk, base_url)
    notify_login_failures.enqueue(parent.site_id, parent.username, base_url)
    family_emails.changes_acknowledgement(
        family,
        family,
        [Change("city", "Ville", "Melun", "Combs-la-Ville & <Brie>")],
        True,
        parent,
        base_url,
    )
    data = reenrollment_data.campaign(combs)
    document = FamilyDocument.objects.create(
        family=family,
        kind=data["proof"],
        file="x.pdf",
        original_name="edf.pdf",
        content_type="application/pdf",
        size=10,
        status="refused",
        refusal_reason="Illisible",
    )
    document_emails.document_refused(document, base_url)
    ledger.record_payment(
        family,
        Decimal("186.00"),
        Payment.Mode.CHEQUE,
        [(billing_data.issued(family), Decimal("186.00"))],
        base_url=base_url,
    )
    courses = data["courses"]
    requests = []
    for name, kept in [("Léa", [courses[0], courses[2]]), ("Hugo", [courses[1]])]:
        student = students_data.student(family, name, courses=kept)
        request = workflow.save_wishes(
            data["campaign"],
            student,
            [
                Wish(discipline=e.course.discipline, enrollment=e, choice=Wish.Choice.CONTINUE)
                for e in student.enrollments.select_related("course")
            ],
            comment="Le mercredi <si possible>",
        )
        requests.append(workflow.send(request, parent, data["rules"], base_url))
    lea, hugo = requests
    lea = workflow.mark_incomplete(lea, "L'avis d'imposition.", None, base_url)
    workflow.send(lea, parent, data["rules"], base_url)
    workflow.validate(lea, [data["next"]["fm3"], data["next"]["dance"]], None, base_url)
    workflow.refuse(hugo, "Plus de place.", None, base_url)


@pytest.mark.django_db(transaction=True)
def test_every_email_is_framed_and_valid_html(combs, parent, run_worker, tmp_path):
    from .test_html_valid import validate

    parent.family.reference_email = "famille.martin@example.org"
    parent.family.save()
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        send_every_email(combs, parent)
        run_worker()
    subjects = [m.subject for m in mail.outbox]
    # Invitation, password, sign-in failures, changes, document, invoice, receipt; then
    # three requests sent (to the family and the secretariat), incomplete,
    # validated, refused.
    assert len(mail.outbox) == 7 + 3 * 2 + 3, subjects
    for message in mail.outbox:
        html = next(content for content, mime in message.alternatives if mime == "text/html")
        assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
        assert " style=" not in html, message.subject
        if message.to != [combs.email]:  # The families' e-mails are signed by the site.
            assert message.body.startswith("Bonjour,"), message.subject
            assert message.body.rstrip().endswith(combs.email), message.subject
            assert f"mailto:{combs.email}" in html
    changes = next(m for m in mail.outbox if "fiche famille" in m.subject)
    assert "Combs-la-Ville &amp; &lt;Brie&gt;" in changes.alternatives[0][0]
    assert "Combs-la-Ville & <Brie>" in changes.body  # The text part is not HTML-escaped.
    pages = {f"mail-{n}": m.alternatives[0][0] for n, m in enumerate(mail.outbox)}
    messages = validate(pages, tmp_path)
    assert messages == [], [
        (m["url"].rsplit("/", 1)[-1], m.get("lastLine"), m["message"]) for m in messages
    ]


def test_a_subject_keeps_its_french_no_break_spaces_on_one_line():
    message = build_message(
        "reenrollment/emails/incomplete",
        {"student": "Léa\nMartin", "year": SimpleNamespace(name="2027-2028")},
        to=["famille@example.org"],
        language="fr",
    )
    assert message.subject == "Réinscription de Léa Martin pour 2027-2028\u00a0: dossier incomplet"
