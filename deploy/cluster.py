"""The portal as it runs in production, on one machine: nginx in front of
several gunicorn nodes, and task workers, sharing PostgreSQL and Redis.

    python -m deploy.cluster --workdir var/cluster --port 8088 --nodes 2

runs until Ctrl+C. The tests and the load test use the Python API:

    with Cluster(workdir, port, nodes=2, env={"DATABASE_URL": ...}) as cluster:
        requests.get(cluster.url + "/connexion/")

The database is the caller's DATABASE_URL, migrated by the caller.
`node_urls` are the gunicorn nodes themselves (what a client reaching a node
directly sees: its forwarded headers ignored); `pinned_urls` go through nginx
to one node only, as a request the load balancer happened to send there.
"""

import argparse
import contextlib
import os
import pwd
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
# nginx connects to the nodes from this address, the only one they trust
# (Linux answers on all of 127.0.0.0/8): a client on the same machine
# reaching a node directly comes from 127.0.0.1 and is not believed. (Other
# systems may need the address added to the loopback interface, or
# proxy_address="127.0.0.1", which trusts every local client.)
PROXY_ADDRESS = "127.0.0.2"
ACCEL_PREFIX = "/_protected/"
# What a process started with a caller's `env` inherits from this one.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "VIRTUAL_ENV")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fill(template, **values):
    text = (HERE / template).read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", str(value))
    if "{{" in text:
        raise ValueError(f"{template}: a placeholder is left: {text[text.index('{{') :][:40]}")
    return text


class ClusterError(RuntimeError):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


class Cluster:
    """nginx, `nodes` gunicorn nodes and `task_workers` task workers, with the
    production settings and `env` (see the module's documentation)."""

    def __init__(
        self,
        workdir,
        port=0,
        nodes=2,
        workers_per_node=2,
        env=None,
        task_workers=1,
        tls=False,
        ready_path="/connexion/",
        nginx="nginx",
        proxy_address=PROXY_ADDRESS,
    ):
        self.workdir = Path(workdir).resolve()
        self.port = port or free_port()
        self.nodes = nodes
        self.workers_per_node = workers_per_node
        self.task_workers = task_workers
        self.tls = tls
        self.ready_path = ready_path
        self.nginx = nginx
        self.proxy_address = proxy_address
        self.env = self._environment(env)
        self.node_ports = [free_port() for _ in range(nodes)]
        self.pinned_ports = [free_port() for _ in range(nodes)]
        self._nodes = [None] * nodes
        self._workers = []
        self._nginx = None
        self._drained = set()

    # Addresses.

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def node_urls(self):
        return [f"http://127.0.0.1:{port}" for port in self.node_ports]

    @property
    def pinned_urls(self):
        return [f"{self.scheme}://127.0.0.1:{port}" for port in self.pinned_ports]

    @property
    def certificate(self):
        """The self-signed certificate nginx presents (tls=True): a client's CA file."""
        return self.workdir / "tls" / "cert.pem"

    # Configuration.

    def _environment(self, env):
        if env is None:
            base = dict(os.environ)
        else:
            base = {name: os.environ[name] for name in INHERITED if name in os.environ}
            base.update(env)
        defaults = {
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STATIC_ROOT": str(self.workdir / "static"),
            "MEDIA_ROOT": str(self.workdir / "media"),
            "DOCUMENTS_ROOT": str(self.workdir / "documents"),
            "CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
            "BEHIND_HTTPS_PROXY": "1",
            "PRIVATE_FILES_ACCEL_PREFIX": ACCEL_PREFIX,
        }
        if not self.tls:
            # Plain HTTP on this machine: no redirection to HTTPS, cookies sent.
            defaults |= {"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0"}
        merged = defaults | base
        if not merged.get("SECRET_KEY"):
            raise ClusterError("SECRET_KEY must be set in the environment of the cluster.")
        # The production settings, and nginx's address as the one trusted proxy.
        merged["DJANGO_SETTINGS_MODULE"] = "extranet.settings"
        merged["TRUSTED_PROXIES"] = self.proxy_address
        merged["WEB_CONCURRENCY"] = str(self.workers_per_node)
        merged["PYTHONUNBUFFERED"] = "1"
        return merged

    def _write_tls(self):
        folder = self.workdir / "tls"
        folder.mkdir(exist_ok=True)
        if not self.certificate.exists():
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(folder / "key.pem"), "-out", str(self.certificate),
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
        return (
            f"        ssl_certificate {self.certificate};\n"
            f"        ssl_certificate_key {folder / 'key.pem'};"
        )

    def _listen(self, port):
        return f"127.0.0.1:{port}" + (" ssl" if self.tls else "")

    def _static_collected(self):
        """Whether STATIC_ROOT holds the project's static files as they are
        (collectstatic takes seconds; a cluster restarted often skips it)."""
        manifest = Path(self.env["STATIC_ROOT"]) / "staticfiles.json"
        if not manifest.exists():
            return False
        sources = [ROOT / "static", *ROOT.glob("*/static")]
        newest = max(
            (path.stat().st_mtime for folder in sources for path in folder.rglob("*")),
            default=0,
        )
        return manifest.stat().st_mtime > newest

    def nginx_conf(self):
        tls = self._write_tls() if self.tls else ""
        max_bytes = int(self.env.get("DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
        proxy = _fill("proxy.conf", proxy_bind=self.proxy_address, read_timeout="60s")
        locations = _fill(
            "locations.conf",
            static_root=Path(self.env["STATIC_ROOT"]).resolve(),
            accel_prefix=self.env["PRIVATE_FILES_ACCEL_PREFIX"] or ACCEL_PREFIX,
            documents_root=Path(self.env["DOCUMENTS_ROOT"]).resolve(),
        )
        node_upstreams = "\n".join(
            f"    upstream extranet_node{i} {{\n        server 127.0.0.1:{port};\n    }}"
            for i, port in enumerate(self.node_ports)
        )
        node_servers = "\n".join(
            f"    server {{\n        listen {self._listen(pinned)};\n{tls}\n"
            f"        location / {{\n            proxy_pass http://extranet_node{i};\n"
            f"{proxy}        }}\n\n{locations}    }}"
            for i, pinned in enumerate(self.pinned_ports)
        )
        return _fill(
            "nginx.conf",
            workdir=self.workdir,
            user=pwd.getpwuid(os.getuid()).pw_name,
            mime_types="/etc/nginx/mime.types",
            client_max_body_size=2 * max_bytes + 1024 * 1024,
            upstream_servers="\n".join(
                f"        server 127.0.0.1:{port}{' down' if i in self._drained else ''};"
                for i, port in enumerate(self.node_ports)
            ),
            node_upstreams=node_upstreams,
            listen=self._listen(self.port),
            tls=tls,
            proxy_settings=proxy.rstrip("\n"),
            shared_locations=locations.rstrip("\n"),
            node_servers=node_servers,
        )

    # Processes.

    def _spawn(self, name, command):
        # A session of its own: stopping it stops its children (workers).
        with open(self.workdir / "logs" / f"{name}.log", "ab") as log:
            return subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name):
        path = self.workdir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _manage(self, *arguments):
        result = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise ClusterError(f"manage.py {' '.join(arguments)}:\n{result.stderr[-3000:]}")

    def _wait(self, url, process, name, timeout=60):
        context = ssl.create_default_context(cafile=self.certificate) if self.tls else None
        opener = urllib.request.build_opener(
            _NoRedirect, urllib.request.HTTPSHandler(context=context)
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ClusterError(
                    f"{name} exited ({process.returncode}):\n{self.log(name)[-3000:]}"
                )
            try:
                request = urllib.request.Request(url, method="HEAD")
                with opener.open(request, timeout=5):
                    return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise ClusterError(f"{name} not ready at {url}:\n{self.log(name)[-3000:]}")

    def start_node(self, i):
        if self._nodes[i] is not None and self._nodes[i].poll() is None:
            return
        name = f"node{i}"
        process = self._spawn(
            name,
            [
                sys.executable, "-m", "gunicorn", "-c", str(HERE / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{self.node_ports[i]}", "--name", f"extranet-{name}",
            ],
        )  # fmt: skip
        self._nodes[i] = process
        self._wait(self.node_urls[i] + self.ready_path, process, name)

    def _stop(self, process, sig=signal.SIGTERM, timeout=30):
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            process.wait()
        # Workers of a killed master (SIGKILL) are left in its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_node(self, i):
        """Stops node `i` gracefully: the requests in flight are answered."""
        self._stop(self._nodes[i])

    def kill_node(self, i):
        """Node `i` dies at once, requests in flight and all."""
        self._stop(self._nodes[i], signal.SIGKILL)

    def restart_node(self, i):
        """A new process for node `i` (a deployment of new code). nginx first
        stops sending it requests: a POST already sent to a node that is closing
        its socket would fail, and nginx never sends a POST twice."""
        self._drained.add(i)
        self._reload_nginx()
        self.stop_node(i)
        self.start_node(i)
        self._drained.discard(i)
        self._reload_nginx()

    def _reload_nginx(self):
        """New configuration for new requests; nginx's old workers finish theirs."""
        (self.workdir / "nginx.conf").write_text(self.nginx_conf())
        if self._nginx is not None and self._nginx.poll() is None:
            self._nginx.send_signal(signal.SIGHUP)
            time.sleep(1)

    def node_pids(self, i):
        return self._nodes[i].pid

    def start_task_workers(self):
        if self._workers:
            return
        for i in range(self.task_workers):
            self._workers.append(
                self._spawn(
                    f"worker{i}",
                    [
                        sys.executable,
                        "manage.py",
                        "run_worker",
                        "--interval",
                        "0.5",
                        "--worker-id",
                        f"{socket.gethostname()}-{self.port}-{i}",
                    ],
                )  # fmt: skip
            )

    def stop_task_workers(self):
        for process in self._workers:
            self._stop(process)
        self._workers = []

    def start(self):
        for folder in ("logs", "tmp"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        for key in ("STATIC_ROOT", "MEDIA_ROOT", "DOCUMENTS_ROOT"):
            Path(self.env[key]).mkdir(parents=True, exist_ok=True)
        try:
            if not self._static_collected():
                self._manage("collectstatic", "--no-input", "--verbosity", "0")
            (self.workdir / "nginx.conf").write_text(self.nginx_conf())
            for i in range(self.nodes):
                self.start_node(i)
            self.start_task_workers()
            self._nginx = self._spawn(
                "nginx",
                [
                    self.nginx, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf"),
                    "-e", "stderr", "-g", "daemon off;",
                ],
            )  # fmt: skip
            self._wait(self.url + self.ready_path, self._nginx, "nginx")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self._stop(self._nginx)
        self._nginx = None
        self._drained = set()
        self.stop_task_workers()
        for i in range(self.nodes):
            self.stop_node(i)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _secret_key(workdir):
    """A key of its own for a cluster started by hand, kept across runs (the
    sessions stay valid)."""
    path = workdir / "secret_key"
    if not path.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="var/cluster", type=Path)
    parser.add_argument("--port", default=8088, type=int)
    parser.add_argument("--nodes", default=2, type=int)
    parser.add_argument("--workers-per-node", default=2, type=int)
    parser.add_argument("--task-workers", default=1, type=int)
    parser.add_argument("--tls", action="store_true", help="HTTPS, self-signed certificate")
    options = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", _secret_key(options.workdir.resolve()))
    cluster = Cluster(
        options.workdir,
        options.port,
        nodes=options.nodes,
        workers_per_node=options.workers_per_node,
        task_workers=options.task_workers,
        tls=options.tls,
    )
    # Stopped by Ctrl+C or TERM, even started in the background (where a
    # shell leaves SIGINT ignored): either way, everything is stopped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with cluster:
        print(f"Portal on {cluster.url} (nginx); nodes: {', '.join(cluster.node_urls)}")
        print(f"Logs in {cluster.workdir / 'logs'}; Ctrl+C stops everything.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
