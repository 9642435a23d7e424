"""A real SMTP server for the load test: each message received is appended to a JSON-lines
file (recipients, subject, Message-ID, sha256 of the body), flushed at once, so that a
stopped and restarted sink keeps counting.

    .venv/bin/python bench/smtp_sink.py --port 8725 --out var/load/mail.jsonl
"""

import argparse
import hashlib
import json
import signal
import threading

from aiosmtpd.controller import Controller


class Append:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        content = envelope.content or b""
        headers = content.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        fields = {}
        for line in headers.split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() in ("subject", "message-id"):
                fields[name.lower()] = value.strip()
        record = {
            "to": envelope.rcpt_tos,
            "subject": fields.get("subject", ""),
            "message_id": fields.get("message-id", ""),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    controller = Controller(Append(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("listening", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
