"""Local SMTP servers for the benchmarks (aiosmtpd on 127.0.0.1), in a thread of the caller.

    sink = start_sink()              # accepts everything at once, keeps a count
    slow = start_sink(delay=2.0)     # answers EHLO, MAIL, RCPT, DATA and QUIT after 2 s each
    sink.stop()
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Counter:
    delay: float = 0.0
    messages: int = 0
    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def _wait(self):
        if self.delay:
            await asyncio.sleep(self.delay)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self._wait()
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self._wait()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._wait()
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._wait()
        with self.lock:
            self.messages += 1
            self.bytes += len(envelope.content or b"")
        return "250 2.0.0 OK"

    async def handle_QUIT(self, server, session, envelope):
        await self._wait()
        return "221 Bye"


class Sink:
    def __init__(self, port: int, delay: float = 0.0):
        self.host, self.port = "127.0.0.1", port
        self.handler = Counter(delay=delay)
        self.controller = Controller(self.handler, hostname=self.host, port=port,
                                     data_size_limit=64 * 1024 * 1024)

    def start(self) -> Sink:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per command
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def start_sink(port: int = 0, delay: float = 0.0) -> Sink:
    if not port:
        from common import free_port

        port = free_port()
    return Sink(port, delay).start()
