"""Serving an issued invoice's stored PDF against rendering it again, both as ratios to a
bare Django page behind the same middleware, measured in the same run. Writes nothing (the
invoice and its family are rolled back).

    .venv/bin/python bench/invoice_pdf.py [--repeat 20]
"""

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path


class Rollback(Exception):
    pass


def timed(function, repeat):
    """The median duration of `repeat` calls, in seconds, after one to warm up (URL
    resolvers, templates and fonts loaded once per process)."""
    function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(repeat):
    from django.test import Client
    from django.urls import reverse

    from billing import ledger
    from billing.models import Invoice, InvoiceLine
    from billing.pdfs import ensure_invoice_pdf, invoice_pdf_bytes
    from extranet.models import Site, User
    from families.models import Family

    site = Site.objects.create(name="Banc d'essai", slug="banc-essai-pdf")
    family = Family.objects.create(site=site, name="Essai")
    user = User.objects.create_user(site=site, username="essai", password=None, family=family)
    invoice = Invoice.objects.create(site=site, family=family, label="Cotisations")
    for n in range(8):
        InvoiceLine.objects.create(invoice=invoice, label=f"Cours {n}", unit_price=Decimal("42.50"))
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
    return base, {
        "stored PDF served": timed(stored, repeat),
        "PDF rendered again": timed(rendered, max(3, repeat // 4)),
    }


def main(argv=None, stdout=sys.stdout):
    from bench import environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="samples per measure (20)")
    options = parser.parse_args(argv)
    environment.ready()

    from django.conf import settings
    from django.db import transaction
    from django.test import override_settings

    # The test client's host name, next to the configured ones.
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        with (
            transaction.atomic(),
            override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=hosts),
        ):
            base, results = measure(options.repeat)
            raise Rollback
    except Rollback:
        pass
    stdout.write(f"bare Django page: {base * 1000:.1f} ms (ratio 1.0)\n")
    for name, value in results.items():
        stdout.write(f"{name}: {value * 1000:.1f} ms (ratio {value / base:.1f})\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
