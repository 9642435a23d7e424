"""A parent's visit at the opening of the re-enrollment campaign, for locust.

Each iteration takes the next family of the seeded ones (bench/campaign_data.py), signs in
with its own account, opens Accueil, sends both children's re-enrollment requests (the
documents step with an upload, the wishes as they stand, the rules accepted), opens
Facturation, pays the unpaid invoices through the simulated bank, and signs out. Every
response is checked (status, redirect target, a marker of the page): an error page, a login
page or a refusal counts as a failure. Run by bench/campaign_load.py, which sets:

    LOAD_FAMILIES   how many accounts were seeded (parent00000…)
    LOAD_PASSWORD   their password
    LOAD_SITE       the site's slug
"""

import itertools
import os
import random
import re
import time

from html_forms import Forms
from locust import FastHttpUser, between, task
from urllib3 import encode_multipart_formdata

FAMILIES = int(os.environ.get("LOAD_FAMILIES", "200"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
SITE = os.environ.get("LOAD_SITE", "combs-la-ville")
THINK = float(os.environ.get("LOAD_THINK_SECONDS", "1"))

_accounts = itertools.count()

# A one-page PDF, as small as a scanner's is big: the upload's content checks run on it.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n"
)


STUDENT_LINK = re.compile(r'href="/reinscription/(\d+)/"')


class Parent(FastHttpUser):
    wait_time = between(THINK / 2, THINK * 1.5)

    def check(self, response, status, marker=None, location=None):
        """Fails the request unless it answered `status`, with `marker` in the page or a
        redirect to `location`."""
        if response.status_code != status:
            response.failure(f"status {response.status_code}, {status} expected")
        elif marker and marker not in response.text:
            response.failure(f"{marker!r} not in the page")
        elif location and location not in (response.headers.get("Location") or ""):
            response.failure(f"redirected to {response.headers.get('Location')!r}")
        else:
            response.success()
            return True
        return False

    def get(self, url, name, status=200, marker=None):
        time.sleep(random.uniform(THINK / 2, THINK * 1.5))  # Reading the previous page.
        with self.client.get(url, name=name, catch_response=True) as response:
            if self.check(response, status, marker):
                self.last_page = response.text
                return response
        return None

    def post(self, url, name, fields, location, files=None, status=302, marker=None):
        headers = {"Referer": self.host + url}
        if files:
            body, content_type = encode_multipart_formdata(fields + files)
        else:
            from urllib.parse import urlencode

            body, content_type = urlencode(fields), "application/x-www-form-urlencoded"
        headers["Content-Type"] = content_type
        with self.client.post(
            url,
            data=body,
            headers=headers,
            name=name,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if self.check(response, status, marker, location):
                return response
        return None

    last_page = None

    @task
    def campaign_opening(self):
        self.last_page = None
        index = next(_accounts) % FAMILIES
        login = f"/connexion/{SITE}/"
        page = self.get(login, "connexion (page)", marker='name="password"')
        if page is None:
            return
        fields, _ = Forms(page.text).data("")
        fields = [(k, v) for k, v in fields if k not in ("username", "password", "site")]
        fields += [("username", f"parent{index:05d}"), ("password", PASSWORD), ("site", SITE)]
        if self.post(login, "connexion (POST)", fields, location="/") is None:
            return
        try:
            self.visit()
        finally:
            self.sign_out()

    def visit(self):
        if self.get("/", "accueil", marker="À faire") is None:
            return
        index = self.get("/reinscription/", "réinscription", marker="Réinscription")
        if index is None:
            return
        students = list(dict.fromkeys(STUDENT_LINK.findall(index.text)))
        if len(students) < 2:
            index.failure(f"{len(students)} children on the tab, 2 expected")
            return
        for student in students[:2]:
            if not self.reenroll(student):
                return
        self.pay()

    def reenroll(self, student):
        base = f"/reinscription/{student}/"
        page = self.get(base, "réinscription : pièces", marker="documents/importer/")
        if page is None:
            return False
        upload = base + "documents/importer/"
        fields, form = Forms(page.text).data(upload)
        fields = [(k, v) for k, v in fields if k != "kind"]
        fields.append(("kind", form["selects"]["kind"]["first"]))
        uploaded = self.post(
            upload,
            "réinscription : dépôt d'un document",
            fields,
            location=base,
            files=[("file", ("attestation.pdf", PDF, "application/pdf"))],
        )
        if uploaded is None:
            return False
        page = self.get(base + "souhaits/", "réinscription : souhaits", marker="souhaits")
        if page is None:
            return False
        fields, _ = Forms(page.text).data("")
        saved = self.post(
            base + "souhaits/", "réinscription : souhaits (POST)", fields, base + "validation/"
        )
        if saved is None:
            return False
        page = self.get(base + "validation/", "réinscription : validation", marker="règlement")
        if page is None:
            return False
        fields, _ = Forms(page.text).data("")
        fields = [(k, v) for k, v in fields if k != "accept_rules"] + [("accept_rules", "on")]
        sent = self.post(
            base + "validation/", "réinscription : validation (POST)", fields, base + "envoyee/"
        )
        return sent is not None

    def pay(self):
        page = self.get("/facturation/", "facturation", marker="Facturation")
        if page is None:
            return
        if 'name="invoices"' not in page.text:
            return  # Paid already: a family seen again once every account has had its turn.
        fields, _ = Forms(page.text).data("/facturation/payer/")
        started = self.post("/facturation/payer/", "paiement (POST)", fields, "banque-simulee")
        if started is None:
            return
        bank_url = started.headers["Location"]
        bank = self.get(bank_url, "banque simulée", marker="transaction_id")
        if bank is None:
            return
        fields, _ = Forms(bank.text).data("")
        fields.append(("pay", "1"))
        paid = self.post(bank_url, "banque simulée (Payer)", fields, "/facturation/paiement/")
        if paid is not None:
            self.get(paid.headers["Location"], "paiement : retour", marker="enregistré")

    def sign_out(self):
        # The sign-out form of the last page seen (its CSRF token).
        if "/deconnexion/" not in (self.last_page or ""):
            return
        fields, _ = Forms(self.last_page).data("/deconnexion/")
        self.post("/deconnexion/", "déconnexion", fields, "/connexion")
