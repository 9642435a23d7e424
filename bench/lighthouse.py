"""Lighthouse (mobile profile) on the parent's pages of the demo portal:
accessibility, best practices and performance, page by page.

The script makes a throwaway SQLite database with the demo data, signs the demo
parent of Combs-la-Ville in (a session made here, sent to Lighthouse as a cookie
header), starts the portal on 127.0.0.1 and runs npm's `lighthouse` with
Debian's Chromium on each page. Exit status 1 when a page scores under 100 in
accessibility or best practices.

    make lighthouse
    DEBUG=1 .venv/bin/python bench/lighthouse.py --pages home billing --keep-reports var/lighthouse
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import ROOT  # noqa: E402

PAGES = {
    "home": ("Accueil", "/"),
    "family": ("Famille", "/famille/"),
    "students": ("Élèves", "/eleves/"),
    "billing": ("Facturation", "/facturation/"),
    "reenrollment": ("Réinscription", "/reinscription/"),
}
ATTEMPTS = 3
CATEGORIES = ["accessibility", "best-practices", "performance"]
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages",
        nargs="+",
        choices=list(PAGES),
        default=list(PAGES),
        help="the pages to audit (default: all five)",
    )
    parser.add_argument(
        "--lighthouse",
        default=os.environ.get("LIGHTHOUSE", str(ROOT / "node_modules" / ".bin" / "lighthouse")),
        help="the lighthouse command (default: node_modules/.bin/lighthouse, or $LIGHTHOUSE)",
    )
    parser.add_argument(
        "--chrome",
        default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
        help="the browser (default: $CHROME_PATH, else /usr/bin/chromium)",
    )
    parser.add_argument("--keep-reports", type=Path, help="a folder to write the JSON reports to")
    return parser.parse_args(argv)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env):
    """Migrate and load the demo in the throwaway database; the demo parent's
    session cookie, as a `Cookie` header value."""
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        "from django.test import Client\n"
        "from extranet.models import User\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('createcachetable', verbosity=0)\n"
        "call_command('load_demo_data', verbosity=0)\n"
        "client = Client()\n"
        "client.force_login(User.objects.get(username='demo', site__slug='combs-la-ville'))\n"
        "name = settings.SESSION_COOKIE_NAME\n"
        "print(f'{name}={client.cookies[name].value}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def audit(args, url, cookie, report_path):
    command = [
        args.lighthouse,
        url,
        "--quiet",
        "--form-factor=mobile",
        "--screenEmulation.mobile",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
        "--output=json",
        f"--output-path={report_path}",
    ]
    # On a busy machine Lighthouse may lose the page load's trace (NO_NAVSTART): try again.
    for attempt in range(1, ATTEMPTS + 1):
        done = subprocess.run(command, env={**os.environ, "CHROME_PATH": args.chrome})
        if done.returncode == 0:
            break
        if attempt == ATTEMPTS:
            done.check_returncode()
    report = json.loads(Path(report_path).read_text())
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    failing = [
        f"{audit['id']}: {audit['title']}"
        for audit in report["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") == "binary"
        and any(
            ref["id"] == audit["id"]
            for name in ("accessibility", "best-practices")
            for ref in report["categories"][name]["auditRefs"]
            if ref.get("weight")
        )
    ]
    return scores, failing


def main(argv=None):
    args = parse_args(argv)
    if not shutil.which(args.lighthouse):
        sys.exit(f"lighthouse not found: {args.lighthouse} (run `npm ci`)")
    work = Path(tempfile.mkdtemp(prefix="extranet-lighthouse-"))
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "MEDIA_ROOT": str(work / "media"),
        "DOCUMENTS_ROOT": str(work / "documents"),
        "EMAIL_FILE_PATH": str(work / "mail"),
    }
    server = None
    try:
        cookie = prepare(env)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/connexion/")
        reports = args.keep_reports or work
        reports.mkdir(parents=True, exist_ok=True)
        print(f"{'page':<15} {'accessibility':>13} {'best practices':>14} {'performance':>11}")
        shortfall = False
        for key in args.pages:
            name, path = PAGES[key]
            scores, failing = audit(args, base + path, cookie, reports / f"{key}.json")
            print(
                f"{name:<15} {scores['accessibility']:>13} {scores['best-practices']:>14} "
                f"{scores['performance']:>11}",
                flush=True,
            )
            for line in failing:
                print(f"    {line}")
            shortfall |= scores["accessibility"] < 100 or scores["best-practices"] < 100
        return 1 if shortfall else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
