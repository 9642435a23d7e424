"""Every parent page and the secretariat's main admin pages under gunicorn with production
settings, as ratios to a bare login-required view served by the same gunicorn in the same
run; then sign-ins per second.

The script makes a throwaway PostgreSQL database (dropped and created again), loads the
demo data and 10,000 more families on the demo site, collects the static files, starts
gunicorn (2 sync workers) with DEBUG off, Redis as cache and persistent database
connections, signs the demo parent and the demo secretariat in, and runs `wrk` on each page
at 4 and at 32 connections, the bare view measured again between groups of pages. Exit
status 1 when a target is missed (see TARGETS), unless --no-fail.

    make bench-pages
    .venv/bin/python bench/pages.py --duration 5 --pages Famille admin --json var/pages.json

The database is BENCH_DATABASE_URL, else DATABASE_URL's server with the database
`extranet_bench_pages`, else that database on 127.0.0.1; Redis is BENCH_REDIS_URL, else
redis://127.0.0.1:6379/1.
"""

import argparse
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "extranet_bench_pages"
DEMO_PASSWORD = "Extranet-demo-2026"
PARENT = ("combs-la-ville", "demo")
STAFF = ("combs-la-ville", "secretariat-combs")
FAMILIES = 10_000
GROUP = 4  # Pages measured between two measures of the bare view.
CONNECTIONS = (4, 32)

# The targets: each parent tab and its median, each edit form, as ratios to the bare view
# at 32 connections; p99 at 4 connections for every parent page; sign-ins per second; p50
# at 4 connections of the admin's family list and dashboard.
TARGETS = {
    "tab_ratio": 0.5,
    "tab_median_ratio": 0.6,
    "form_ratio": 0.3,
    "parent_p99_ms": 30.0,
    "logins_per_second": 20.0,
    "admin_p50_ms": 150.0,
}
PARENT_KINDS = {"tab", "form", "page"}


@dataclass
class Page:
    name: str
    kind: str  # tab, form, page, file (a parent's); admin; yardstick
    path: str
    who: str = "parent"  # whose session: parent, staff
    target: bool = True  # For admin pages: held to the p50 target.


@dataclass
class Result:
    page: Page
    status: int = 0
    html_bytes: int = 0
    queries: int | None = None
    runs: dict = field(default_factory=dict)  # connections -> wrk figures
    bare: dict = field(default_factory=dict)  # connections -> bare rps around it

    def ratio(self, connections):
        rps, bare = self.runs[connections]["rps"], self.bare.get(connections)
        return rps / bare if bare else 0.0


# The pages ------------------------------------------------------------------------------


def parent_pages(user):
    """Every page a parent reaches from the tabs, with the family's real ids: tabs, edit
    forms, and the files they link to (the calendar feed, documents, PDFs)."""
    from django.urls import reverse

    family = user.family
    students = list(family.students.order_by("first_name", "pk"))
    first = students[0]
    pages = [
        Page("Accueil", "tab", reverse("home")),
        Page("Famille", "tab", reverse("families:family")),
        Page("Quotient familial", "tab", reverse("fees:income")),
        Page("Élèves", "tab", reverse("students:list")),
        Page("Fiche élève", "form", reverse("students:detail", args=[first.pk])),
        Page("Cours", "tab", reverse("students:courses", args=[first.pk])),
        Page("Historique", "tab", reverse("students:history", args=[first.pk])),
        Page("Semaine", "tab", reverse("students:timetable")),
        Page("Réinscription", "tab", reverse("reenrollment:index")),
        *reenrollment_pages(family, students),
        Page("Facturation", "tab", reverse("billing:statement")),
        *billing_pages(family),
        Page("Accessibilité", "tab", reverse("accessibility")),
        Page("Déclaration d'accessibilité", "page", _statement(family)),
        Page("Famille › modifier", "form", reverse("families:edit")),
        *guardian_pages(family),
        *income_pages(family),
        *document_pages(family, students),
        Page("Mot de passe", "form", reverse("password_change")),
    ]
    return pages


def _statement(family):
    from django.urls import reverse

    return reverse("accessibility_statement", args=[family.site.slug])


def reenrollment_pages(family, students):
    """Each child's steps of the campaign on show, as the family may open them now."""
    from django.urls import reverse

    from reenrollment.models import ReenrollmentCampaign, ReenrollmentRequest

    campaign = ReenrollmentCampaign.objects.for_portal(family.site)
    if campaign is None or campaign.state() == campaign.State.UPCOMING:
        return []
    requests = {r.student_id: r for r in ReenrollmentRequest.objects.filter(campaign=campaign)}
    pages = []
    for student in students:
        found = requests.get(student.pk)
        if found is None and campaign.state() == campaign.State.CLOSED:
            continue
        name = f"Réinscription › {student.first_name}"
        if found is not None and found.status == ReenrollmentRequest.Status.VALIDATED:
            pages.append(
                Page(f"{name} › envoyée", "tab", reverse("reenrollment:sent", args=[student.pk]))
            )
            continue
        pages += [
            Page(
                f"{name} › documents", "tab", reverse("reenrollment:documents", args=[student.pk])
            ),
            Page(f"{name} › souhaits", "form", reverse("reenrollment:wishes", args=[student.pk])),
            Page(
                f"{name} › validation",
                "form",
                reverse("reenrollment:validation", args=[student.pk]),
            ),
        ]
        if found is not None and found.is_sent:
            pages.append(
                Page(f"{name} › envoyée", "tab", reverse("reenrollment:sent", args=[student.pk]))
            )
    return pages


def billing_pages(family):
    """The direct debit pages, an invoice's and a receipt's PDF."""
    from django.urls import reverse

    from billing.models import Invoice, Payment
    from directdebit import mandates

    pages = [Page("Prélèvement", "tab", reverse("directdebit:mandate"))]
    if mandates.family_mandate(family) is not None:
        pages += [
            Page("Prélèvement › changer de compte", "form", reverse("directdebit:amend")),
            Page("Prélèvement › révoquer", "form", reverse("directdebit:revoke")),
        ]
    invoice = Invoice.objects.issued().filter(family=family).order_by("pk").first()
    if invoice is not None:
        pages.append(
            Page("Facture (PDF)", "file", reverse("billing:invoice_pdf", args=[invoice.pk]))
        )
    payment = Payment.objects.filter(family=family).order_by("pk").first()
    if payment is not None:
        pages.append(Page("Reçu (PDF)", "file", reverse("billing:receipt_pdf", args=[payment.pk])))
    return pages


def guardian_pages(family):
    from django.urls import reverse

    pages = [Page("Responsable › ajouter", "form", reverse("families:guardian_add"))]
    guardian = family.guardians.order_by("position", "pk").first()
    if guardian is not None:
        pages.append(
            Page(
                "Responsable › modifier",
                "form",
                reverse("families:guardian_edit", args=[guardian.pk]),
            )
        )
    return pages


def income_pages(family):
    from django.urls import reverse

    from fees.views import offered_years

    years = offered_years(family.site_id)
    if not years:
        return []
    return [
        Page(
            "Quotient familial › déclarer", "form", reverse("fees:income_edit", args=[years[0].pk])
        )
    ]


def document_pages(family, students):
    """A family document and a student document (download and replace), the calendar feed,
    when the family has them."""
    from django.urls import reverse

    from students.models import CalendarFeed, StudentDocument

    pages = []
    document = family.documents.order_by("pk").first()
    if document is not None:
        pages += [
            Page("Document famille", "file", reverse("families:document", args=[document.pk])),
            Page(
                "Document famille › remplacer",
                "form",
                reverse("families:document_replace", args=[document.pk]),
            ),
        ]
    found = StudentDocument.objects.filter(student__in=students).order_by("pk").first()
    if found is not None:
        args = [found.student_id, found.pk]
        pages += [
            Page("Document élève", "file", reverse("students:document", args=args)),
            Page(
                "Document élève › remplacer",
                "form",
                reverse("students:document_replace", args=args),
            ),
        ]
    feed = CalendarFeed.objects.filter(family=family).first()
    if feed is not None:
        pages.append(Page("Calendrier (.ics)", "file", reverse("calendar_feed", args=[feed.token])))
    return pages


def admin_pages(family):
    """The secretariat's day, a family's overview, the family list and its search."""
    from django.urls import reverse

    changelist = reverse("admin:families_family_changelist")
    return [
        Page("Admin › Aujourd'hui", "admin", reverse("admin:index"), "staff"),
        Page("Admin › familles", "admin", changelist, "staff"),
        Page("Admin › familles, recherche", "admin", f"{changelist}?q=Martin", "staff", False),
        Page(
            "Admin › vue d'ensemble",
            "admin",
            reverse("admin:family_overview", args=[family.pk]),
            "staff",
            False,
        ),
    ]


def yardsticks():
    return [Page("Tableau de 20 lignes", "yardstick", "/bench-table/")]


def all_pages():
    from extranet.models import User

    parent = User.objects.select_related("family__site").get(
        site__slug=PARENT[0], username=PARENT[1]
    )
    return yardsticks() + parent_pages(parent) + admin_pages(parent.family)


# The run --------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run (3)")
    parser.add_argument("--families", type=int, default=FAMILIES, help="added to the demo (10000)")
    parser.add_argument(
        "--pages", nargs="+", help="only the pages whose name contains one of these"
    )
    parser.add_argument("--login-duration", type=int, default=10, help="seconds of sign-ins (10)")
    parser.add_argument("--json", type=Path, help="a file to write the results to")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-fail", action="store_true", help="exit 0 even when a target is missed"
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (a free one)")
    return parser.parse_args(argv)


def database_url():
    """BENCH_DATABASE_URL, else DATABASE_URL's PostgreSQL server with our own database."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(url)._replace(path=f"/{DATABASE}"))


def recreate_database(url, drop_only=False):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def environment(url, work):
    """Production settings, on loopback without HTTPS."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "DATABASE_URL": url,
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600"),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
        "STATIC_ROOT": str(work / "static"),
        "MEDIA_ROOT": str(work / "media"),
        "DOCUMENTS_ROOT": str(work / "documents"),
        "EMAIL_FILE_PATH": str(work / "mail"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare(families, say):
    """Migrate, the demo, the families added, the static files; in this process."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import populate
    from extranet.models import Site, User
    from students.models import CalendarFeed

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo_data", "--force", verbosity=0, stdout=io.StringIO())
    say(f"database migrated, demo loaded in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    populate.add_families(Site.objects.get(slug=PARENT[0]), families)
    say(f"{families} families added in {time.monotonic() - started:.0f} s")
    parent = User.objects.get(site__slug=PARENT[0], username=PARENT[1])
    CalendarFeed.objects.get_or_create(family=parent.family)
    # The planner's statistics, as autovacuum would have them on a database in use.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    call_command("collectstatic", "--no-input", verbosity=0)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env, port, work):
    log = open(work / "gunicorn.log", "w")  # noqa: SIM115  (closed with the process)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "extranet.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--error-logfile",
            "-",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server.log = log
    return server


def wait_for(base, server, seconds=60):
    import requests

    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            log = Path(server.log.name).read_text()[-3000:]
            raise SystemExit(f"gunicorn stopped (status {server.returncode}):\n{log}")
        try:
            if requests.get(f"{base}/connexion/", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn did not answer in time")
        time.sleep(0.3)


def login_form(session, base, site):
    """The login page's CSRF token (its cookie now in `session`)."""
    page = session.get(f"{base}/connexion/{site}/", timeout=120)
    page.raise_for_status()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if found is None:
        raise SystemExit("no CSRF token on the login page")
    return found.group(1)


def login_fields(site, username, token):
    return {
        "site": site,
        "username": username,
        "password": DEMO_PASSWORD,
        "csrfmiddlewaretoken": token,
    }


def sign_in(base, site, username):
    """A signed-in session's `Cookie` header, through the real login form."""
    import requests

    session = requests.Session()
    token = login_form(session, base, site)
    done = session.post(
        f"{base}/connexion/{site}/",
        data=login_fields(site, username, token),
        allow_redirects=False,
        timeout=120,
    )
    if done.status_code != 302:
        raise SystemExit(f"{username} of {site} could not sign in (status {done.status_code})")
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def probe(base, page, cookie):
    """One GET: its status (200 or the run stops), size and query count."""
    import requests

    response = requests.get(
        base + page.path, headers={"Cookie": cookie}, allow_redirects=False, timeout=120
    )
    if response.status_code != 200:
        raise SystemExit(f"{page.name} ({page.path}) answered {response.status_code}, not 200")
    return response.status_code, len(response.content), int(response.headers["X-Bench-Queries"])


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output):
    """Requests per second, p50 and p99 in ms, and the errors of wrk's `--latency` report."""

    def latency(percent):
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(found.group(1)) * UNITS[found.group(2)] if found else None

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.M)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }


def wrk(url, connections, duration, headers=(), script=None, env=None):
    command = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env=env, timeout=600
    )
    settle(url)
    return parse_wrk(done.stdout), done.stdout


def settle(url):
    """Waits for the requests wrk left queued in gunicorn when it stopped (slow pages
    leave seconds of them), so that they do not weigh on the next measure."""
    import requests

    parts = urlsplit(url)
    requests.get(f"{parts.scheme}://{parts.netloc}/bare/", allow_redirects=False, timeout=600)


def measure(base, page, cookie, duration):
    result = Result(page)
    result.status, result.html_bytes, result.queries = probe(base, page, cookie)
    for connections in CONNECTIONS:
        result.runs[connections], _ = wrk(
            base + page.path, connections, duration, [f"Cookie: {cookie}"]
        )
    return result


def measure_bare(base, cookie, duration):
    return {
        connections: wrk(base + "/bare/", connections, duration, [f"Cookie: {cookie}"])[0]["rps"]
        for connections in CONNECTIONS
    }


def measure_pages(base, pages, cookies, duration, say):
    """Each page, the bare view measured before and after every GROUP pages: a page's
    ratio uses the mean of the two bare figures around it."""
    results, bare_runs = [], []
    bare_before = measure_bare(base, cookies["parent"], duration)
    bare_runs.append(bare_before)
    for start in range(0, len(pages), GROUP):
        group = []
        for page in pages[start : start + GROUP]:
            group.append(measure(base, page, cookies[page.who], duration))
            say(f"  {page.name}: {group[-1].runs[32]['rps']:.0f} requests/s at 32")
        bare_after = measure_bare(base, cookies["parent"], duration)
        bare_runs.append(bare_after)
        for result in group:
            result.bare = {c: (bare_before[c] + bare_after[c]) / 2 for c in CONNECTIONS}
        results += group
        bare_before = bare_after
    return results, bare_runs


def measure_logins(base, duration):
    """Successful sign-ins per second at 4 connections: the real login form posted again
    and again with one CSRF cookie and token (bench/login.lua), Argon2id and all."""
    from urllib.parse import urlencode

    import requests

    session = requests.Session()
    token = login_form(session, base, PARENT[0])
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    env = {
        **os.environ,
        "BENCH_LOGIN_BODY": urlencode(login_fields(*PARENT, token)),
        "BENCH_LOGIN_COOKIE": cookie,
    }
    figures, output = wrk(
        f"{base}/connexion/{PARENT[0]}/", 4, duration, script=ROOT / "bench" / "login.lua", env=env
    )
    found = re.search(r"^not signed in: (\d+)", output, re.M)
    figures["failed"] = int(found.group(1)) if found else None
    return figures


# The report -----------------------------------------------------------------------------


def verdict(results, login):
    """The targets missed, in words (none: all met)."""
    missed = []
    tabs = [r for r in results if r.page.kind == "tab"]
    for result in results:
        kind, name = result.page.kind, result.page.name
        ratio, run4 = result.ratio(32), result.runs[4]
        if kind == "tab" and ratio < TARGETS["tab_ratio"]:
            missed.append(f"{name}: {ratio:.2f}× the bare view (target ≥ {TARGETS['tab_ratio']})")
        if kind == "form" and ratio < TARGETS["form_ratio"]:
            missed.append(f"{name}: {ratio:.2f}× the bare view (target ≥ {TARGETS['form_ratio']})")
        p99, p50 = run4["p99_ms"] or float("inf"), run4["p50_ms"] or float("inf")
        if kind in PARENT_KINDS and p99 > TARGETS["parent_p99_ms"]:
            missed.append(f"{name}: p99 {p99:.1f} ms at 4 (target ≤ 30 ms)")
        if kind == "admin" and result.page.target and p50 > TARGETS["admin_p50_ms"]:
            missed.append(f"{name}: p50 {p50:.1f} ms at 4 (target ≤ 150 ms)")
        for connections, run in result.runs.items():
            if run["non_2xx"] or run["socket_errors"]:
                missed.append(f"{name}: errors at {connections} connections")
    if tabs:
        median = statistics.median(r.ratio(32) for r in tabs)
        if median < TARGETS["tab_median_ratio"]:
            missed.append(f"median of the tabs: {median:.2f}× (target ≥ 0.6)")
    if login is not None:
        if login["rps"] < TARGETS["logins_per_second"]:
            missed.append(f"sign-ins: {login['rps']:.1f} per second (target ≥ 20)")
        if login["failed"] or login["failed"] is None:
            missed.append(f"sign-ins: {login['failed']} did not sign in")
    return missed


def ms(value):
    return f"{'–':>6}" if value is None else f"{value:>6.1f}"


def table(results, bare_runs, login, say):
    header = (
        f"{'page':<38} {'kind':<9} {'rps@4':>7} {'rps@32':>7} {'×@4':>5} {'×@32':>5} "
        f"{'p50@4':>6} {'p99@4':>6} {'p50@32':>6} {'p99@32':>6} {'KiB':>6} {'q':>3}"
    )
    say(header)
    say("-" * len(header))
    bare = {c: statistics.mean(run[c] for run in bare_runs) for c in CONNECTIONS}
    say(
        f"{'bare login-required view (mean)':<38} {'yardstick':<9} {bare[4]:>7.0f} {bare[32]:>7.0f}"
    )
    for r in results:
        run4, run32 = r.runs[4], r.runs[32]
        say(
            f"{r.page.name[:38]:<38} {r.page.kind:<9} {run4['rps']:>7.0f} {run32['rps']:>7.0f} "
            f"{r.ratio(4):>5.2f} {r.ratio(32):>5.2f} {ms(run4['p50_ms'])} "
            f"{ms(run4['p99_ms'])} {ms(run32['p50_ms'])} {ms(run32['p99_ms'])} "
            f"{r.html_bytes / 1024:>6.1f} {r.queries:>3}"
        )
    tabs = [r.ratio(32) for r in results if r.page.kind == "tab"]
    if tabs:
        say(f"median of the tabs at 32: {statistics.median(tabs):.2f}× the bare view")
    spread = [run[32] for run in bare_runs]
    say(f"bare view at 32 over the run: {min(spread):.0f} to {max(spread):.0f} requests/s")
    if login is not None:
        say(
            f"sign-ins at 4 connections: {login['rps']:.1f} per second, p50 "
            f"{ms(login['p50_ms']).strip()} ms, p99 {ms(login['p99_ms']).strip()} ms, "
            f"{login['failed']} not signed in"
        )


def write_json(path, results, bare_runs, login, missed, options):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "duration": options.duration,
        "families": options.families,
        "cpus": os.cpu_count(),
        "bare_runs": bare_runs,
        "pages": [
            {
                **asdict(r.page),
                "status": r.status,
                "html_bytes": r.html_bytes,
                "queries": r.queries,
                "runs": r.runs,
                "bare": r.bare,
                "ratio_4": r.ratio(4),
                "ratio_32": r.ratio(32),
            }
            for r in results
        ],
        "login": login,
        "targets": TARGETS,
        "missed": missed,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def chosen(pages, filters):
    if not filters:
        return pages
    return [p for p in pages if any(f.casefold() in p.name.casefold() for f in filters)]


def say(text):
    print(text, flush=True)


def main(argv=None):
    options = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install wrk)")
    url = database_url()
    work = Path(tempfile.mkdtemp(prefix="extranet-bench-pages-"))
    env = environment(url, work)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    server = None
    try:
        recreate_database(url)
        prepare(options.families, say)
        pages = chosen(all_pages(), options.pages)
        from django.db import connections

        connections.close_all()
        port = options.port or free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(env, port, work)
        wait_for(base, server)
        cookies = {"parent": sign_in(base, *PARENT), "staff": sign_in(base, *STAFF)}
        wrk(base + "/bare/", 32, 2, [f"Cookie: {cookies['parent']}"])  # Warm both workers.
        say(f"{len(pages)} pages, {options.duration:g} s per run, gunicorn on {base}")
        results, bare_runs = measure_pages(base, pages, cookies, options.duration, say)
        login = measure_logins(base, options.login_duration) if options.login_duration else None
        say("")
        table(results, bare_runs, login, say)
        missed = verdict(results, login)
        say("")
        say("targets: all met" if not missed else "targets missed:")
        for line in missed:
            say(f"  {line}")
        if options.json:
            write_json(options.json, results, bare_runs, login, missed, options)
        return 1 if missed and not options.no_fail else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
            server.log.close()
        from django.db import connections

        connections.close_all()
        if options.keep_db:
            say(f"database kept: {url}")
        else:
            recreate_database(url, drop_only=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
