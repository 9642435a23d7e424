"""gunicorn's settings for a node of the portal: `gunicorn -c deploy/gunicorn.conf.py`.

Read from the environment, with production defaults. Sync workers: the
portal's requests are short and its long work (PDFs, e-mails) is in the task
worker; a worker per core is a good start (WEB_CONCURRENCY).
"""

import os

wsgi_app = "extranet.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A request taking longer is stuck (a lost database, a hung storage): its
# worker is replaced rather than kept out of service.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On a restart (HUP, TERM) the requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Workers are renewed now and then, a slow leak never growing for ever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Only nginx may say the client used HTTPS (X-Forwarded-Proto); the same list
# as the application's TRUSTED_PROXIES.
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")
# The one header nginx sets (gunicorn would also believe X-Forwarded-Ssl…).
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
proc_name = os.environ.get("GUNICORN_NAME", "extranet")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The client as nginx saw it, and the time spent (microseconds, %(D)s).
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(D)sus'
errorlog = "-"
