"""A real SMTP server for the tests where delivery is the point."""

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


class SMTPSink:
    """A real SMTP server on localhost, started and stopped by the test."""

    def __init__(self, port):
        self.messages = []
        sink = self

        class Collect(Message):
            def handle_message(self, message):
                sink.messages.append(message)

        self.controller = Controller(Collect(), hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
