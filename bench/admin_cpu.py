"""The secretariat's heavy pages measured one request at a time, in this process: CPU time
(and wall time, which adds PostgreSQL's) per request, median of --repeat after warm-up, the
bare login-required view measured alongside. On a busy machine, where wrk's figures mean
little, CPU time still compares two versions of a page.

Run on the database bench/pages.py leaves with --keep-db (10,000 families, production
settings, Redis cache and sessions, persistent connection):

    .venv/bin/python bench/pages.py --keep-db --pages Admin --duration 1 --no-fail
    .venv/bin/python bench/admin_cpu.py --repeat 30
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pages  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests measured per page (30)")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="extranet-admin-cpu-"))
    os.environ.update(pages.environment(pages.database_url(), work))
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from extranet.models import User

    call_command("collectstatic", "--no-input", verbosity=0)
    staff = User.objects.get(site__slug=pages.STAFF[0], username=pages.STAFF[1])
    parent = User.objects.select_related("family").get(
        site__slug=pages.PARENT[0], username=pages.PARENT[1]
    )
    client = Client()
    client.force_login(staff)
    changelist = reverse("admin:families_family_changelist")
    measured = {
        "bare view": "/bare/",
        "Aujourd'hui": reverse("admin:index"),
        "familles": changelist,
        "familles, recherche": f"{changelist}?q=Martin",
        "familles, sans compte": f"{changelist}?compte=none",
        "vue d'ensemble": reverse("admin:family_overview", args=[parent.family.pk]),
    }
    print(f"{'page':24} {'CPU ms':>7} {'× bare':>7} {'wall ms':>8} {'queries':>8}")
    bare = None
    for name, url in measured.items():
        for _ in range(3):
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        cpu, wall = [], []
        for _ in range(options.repeat):
            started, clock = time.process_time(), time.perf_counter()
            response = client.get(url)
            cpu.append(time.process_time() - started)
            wall.append(time.perf_counter() - clock)
        cpu_ms, wall_ms = statistics.median(cpu) * 1000, statistics.median(wall) * 1000
        bare = bare or cpu_ms
        queries = response.headers.get("X-Bench-Queries", "?")
        print(f"{name:24} {cpu_ms:7.1f} {cpu_ms / bare:7.1f} {wall_ms:8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
