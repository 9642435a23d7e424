"""Each parent page's CPU time per request in this process, as a ratio to the bare
login-required view measured in the same process: a figure that a busy machine does not
blur the way it blurs requests per second under `wrk`.

Production settings (DEBUG off, cached templates, Redis cache and sessions, persistent
PostgreSQL connection), the demo data and a few more families in a throwaway database,
the demo parent signed in; each page is requested a few times to warm up, then N times
with `time.process_time()` around `Client.get`; the median is kept. The bare view is
measured before and after the pages.

    .venv/bin/python bench/cpu.py --prepare --families 500
    .venv/bin/python bench/cpu.py --pages Accueil Semaine --runs 40
    .venv/bin/python bench/cpu.py --queries Accueil     # its SQL; --profile: its cProfile

Database: BENCH_DATABASE_URL, else `extranet_bench_cpu` on DATABASE_URL's server, else on
127.0.0.1; Redis: BENCH_REDIS_URL, else redis://127.0.0.1:6379/1.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pages as bench  # noqa: E402

DATABASE = "extranet_bench_cpu"


def database_url():
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(url)._replace(path=f"/{DATABASE}"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help="recreate the database first")
    parser.add_argument("--runs", "-n", type=int, default=40, help="timed requests per page")
    parser.add_argument("--families", type=int, default=500, help="added to the demo (500)")
    parser.add_argument("--pages", nargs="*", help="only the pages whose name contains these")
    parser.add_argument("--queries", metavar="PAGE", help="the SQL of one page")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile of one page")
    return parser.parse_args(argv)


def cpu_ms(client, path, n):
    for _ in range(5):
        response = client.get(path)
    samples = []
    for _ in range(n):
        started = time.process_time()
        response = client.get(path)
        samples.append(time.process_time() - started)
    return statistics.median(samples) * 1000, response


def main(argv=None):
    options = parse_args(argv)
    url = database_url()
    work = ROOT / "var" / "bench-cpu"  # Kept between runs: the collected static files.
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update(bench.environment(url, work))
    os.environ["ALLOWED_HOSTS"] = "testserver"
    if options.prepare:
        bench.recreate_database(url)
        bench.prepare(options.families, print)
    import django

    django.setup()
    from django.test import Client

    from extranet.models import User

    pages = bench.chosen(bench.yardsticks() + bench.parent_pages(_parent(User)), options.pages)
    client = Client()
    client.force_login(_parent(User))
    if options.queries:
        return show_queries(client, bench.chosen(pages, [options.queries])[0].path)
    if options.profile:
        return profile(client, bench.chosen(pages, [options.profile])[0].path, options.runs)
    bare_before, _ = cpu_ms(client, "/bare/", options.runs)
    rows = []
    for page in pages:
        if page.kind == "file":
            continue
        ms, response = cpu_ms(client, page.path, options.runs)
        rows.append((page, ms, response))
    bare_after, _ = cpu_ms(client, "/bare/", options.runs)
    bare = (bare_before + bare_after) / 2
    print(f"bare view: {bare_before:.2f} / {bare_after:.2f} ms CPU")
    print(f"{'page':42} {'kind':5} {'ms CPU':>7} {'× bare':>7} {'queries':>7} {'KiB':>6}")
    for page, ms, response in rows:
        queries = response.get(bench_header(), "?")
        size = len(response.content) / 1024
        status = "" if response.status_code == 200 else f" status {response.status_code}"
        print(
            f"{page.name:42} {page.kind:5} {ms:7.2f} {bare / ms:7.2f} {queries:>7} {size:6.1f}"
            + status
        )
    tabs = sorted(bare / ms for page, ms, _ in rows if page.kind == "tab")
    if tabs:
        print(f"median of the tabs: {statistics.median(tabs):.2f}× bare, lowest {tabs[0]:.2f}×")


def show_queries(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    for number, query in enumerate(captured.captured_queries, 1):
        print(f"{number:3} {query['time']}s {query['sql'][:400]}")


def profile(client, path, n):
    import cProfile
    import pstats

    cpu_ms(client, path, 1)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(60)


def bench_header():
    from bench.middleware import HEADER

    return HEADER


def _parent(User):
    return User.objects.select_related("family__site").get(
        site__slug=bench.PARENT[0], username=bench.PARENT[1]
    )


if __name__ == "__main__":
    main()
