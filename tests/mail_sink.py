"""A real SMTP server for the tests where delivery is the point."""

import asyncio
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


class Hold:
    """Makes the server wait before answering `command` ("RCPT": before the
    message is received; "QUIT": after it was accepted), the first `times`
    times, until released: a test can kill its client meanwhile."""

    def __init__(self, command, times=1):
        self.command = command
        self.times = times
        self.reached = threading.Event()
        self.released = threading.Event()

    async def pause(self, command):
        if command != self.command or self.times <= 0:
            return
        self.times -= 1
        self.reached.set()
        while not self.released.is_set():
            await asyncio.sleep(0.05)


class SMTPSink:
    """A real SMTP server on localhost, started and stopped by the test.
    `messages` may be shared with a previous sink (the server restarted);
    `delay` seconds are waited before accepting each recipient."""

    def __init__(self, port, messages=None, hold=None, delay=0):
        self.messages = [] if messages is None else messages
        sink = self

        class Collect(Message):
            def handle_message(self, message):
                sink.messages.append(message)

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if hold:
                    await hold.pause("RCPT")
                if delay:  # A slow server: several workers are busy at once.
                    await asyncio.sleep(delay)
                envelope.rcpt_tos.append(address)
                envelope.rcpt_options.extend(rcpt_options)
                return "250 OK"

            async def handle_QUIT(self, server, session, envelope):
                if hold:
                    await hold.pause("QUIT")
                return "221 Bye"

        self.controller = Controller(Collect(), hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
