"""CPU time per request of parent pages, in this process, as ratios to the bare
login-required view (bench/urls.py) measured in the same run: a figure that holds on a busy
machine, where wrk's requests per second do not.

Production settings (DEBUG off, PostgreSQL with persistent connections, Redis cache and
sessions, cached template loader); the database is prepared as bench/pages.py does (with
fewer added families unless --families) when --prepare is given.

    .venv/bin/python bench/cpu.py --prepare --families 500
    .venv/bin/python bench/cpu.py --pages Facturation Famille --runs 40
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pages as bench_pages  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="recreate the database first")
    parser.add_argument("--families", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40, help="timed requests per page")
    parser.add_argument("--pages", nargs="*", default=[], help="page names (substrings)")
    return parser.parse_args(argv)


def cpu_per_request(client, path, runs):
    for _ in range(5):
        response = client.get(path)
    times = []
    for _ in range(runs):
        started = time.process_time()
        response = client.get(path)
        times.append(time.process_time() - started)
    return statistics.median(times), response


def main(argv=None):
    options = parse_args(argv)
    url = bench_pages.database_url()
    work = ROOT / "var" / "bench-cpu"
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update(bench_pages.environment(url, work))
    if options.prepare:
        bench_pages.recreate_database(url)
        bench_pages.prepare(options.families, print)
    else:
        import django

        django.setup()
        if not (work / "static" / "staticfiles.json").exists():
            from django.core.management import call_command

            call_command("collectstatic", "--no-input", verbosity=0)
    from django.test import Client

    from extranet.models import User

    user = User.objects.get(site__slug=bench_pages.PARENT[0], username=bench_pages.PARENT[1])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    pages = [p for p in bench_pages.parent_pages(user) if p.kind in {"tab", "form", "page"}]
    if options.pages:
        pages = [p for p in pages if any(name in p.name for name in options.pages)]
    bare, _ = cpu_per_request(client, "/bare/", options.runs)
    table, _ = cpu_per_request(client, "/bench-table/", options.runs)
    print(f"{'page':40} {'cpu ms':>7} {'ratio':>6} {'queries':>7}")
    print(f"{'bare view':40} {bare * 1000:7.2f} {1:6.2f}")
    print(f"{'20-row table':40} {table * 1000:7.2f} {bare / table:6.2f}")
    for page in pages:
        spent, response = cpu_per_request(client, page.path, options.runs)
        queries = response.headers.get("X-Bench-Queries", "?")
        print(
            f"{page.name[:40]:40} {spent * 1000:7.2f} {bare / spent:6.2f} {queries:>7}"
            + ("" if response.status_code == 200 else f"  status {response.status_code}")
        )


if __name__ == "__main__":
    main()
