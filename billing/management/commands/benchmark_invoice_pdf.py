"""Serving an issued invoice's stored PDF against rendering it again, and
both against a bare Django page, in the same run."""

import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path, reverse

from billing import ledger
from billing.models import Invoice, InvoiceLine
from billing.pdfs import ensure_invoice_pdf, invoice_pdf_bytes
from extranet.models import Site, User
from families.models import Family


class Rollback(Exception):
    pass


def bare_view(request):
    return HttpResponse("ok")


# The portal's URLs plus a bare view, behind the same middleware.
urlpatterns = [path("bare/", bare_view, name="bare"), path("", include("extranet.urls"))]


def timed(function, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class Command(BaseCommand):
    help = ("Compares serving a stored invoice PDF with rendering it again, as ratios to a "
            "bare Django page (same middleware) measured in the same run. Writes nothing "
            "(rolled back).")

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=20)

    def handle(self, *args, repeat, **options):
        try:
            with transaction.atomic(), override_settings(ROOT_URLCONF=__name__):
                self.measure(repeat)
                raise Rollback
        except Rollback:
            pass

    def measure(self, repeat):
        site = Site.objects.create(name="Banc d'essai", slug="banc-essai-pdf")
        family = Family.objects.create(site=site, name="Essai")
        user = User.objects.create_user(site=site, username="essai", password=None,
                                        family=family)
        invoice = Invoice.objects.create(site=site, family=family, label="Cotisations")
        for n in range(8):
            InvoiceLine.objects.create(invoice=invoice, label=f"Cours {n}",
                                       unit_price=Decimal("42.50"))
        invoice = ensure_invoice_pdf(ledger.issue(invoice))
        client = Client()
        client.force_login(user)
        url = reverse("billing:invoice_pdf", args=[invoice.pk])
        def stored():
            response = client.get(url, secure=True)
            b"".join(response.streaming_content)

        def rendered():
            invoice_pdf_bytes(Invoice.objects.select_related("site").get(pk=invoice.pk))

        def bare_page():
            client.get(reverse("bare"), secure=True)

        base = timed(bare_page, repeat)
        results = {"stored PDF served": timed(stored, repeat),
                   "PDF rendered again": timed(rendered, max(3, repeat // 4))}
        self.stdout.write(f"bare Django page: {base * 1000:.1f} ms (ratio 1.0)")
        for name, value in results.items():
            self.stdout.write(f"{name}: {value * 1000:.1f} ms (ratio {value / base:.1f})")
