"""A real SMTP server for the portal's browser tests (aiosmtpd, on 127.0.0.1).

Every message it receives is parsed with Python's `email` package (which undoes the
quoted-printable or base64 transfer encoding lettre chose) and stored as one JSON file in the
mailbox folder: {"to": [...], "from": ..., "subject": ..., "text": <decoded plain text>}.
The tests read those files; they never parse MIME themselves.

Usage: smtp_server.py MAILBOX_DIR PORT_FILE
It listens on a free port, writes that port to PORT_FILE once it accepts connections, and
runs until SIGTERM or SIGINT.
"""

import asyncio
import email
import email.policy
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Mailbox:
    """aiosmtpd handler: stores each message as `NNNN.json` (written whole, then renamed, so
    a reader never sees half a file)."""

    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        stored = {
            "to": list(envelope.rcpt_tos),
            "from": envelope.mail_from,
            "subject": str(message.get("subject", "")),
            "text": body.get_content() if body is not None else "",
        }
        self.count += 1
        path = os.path.join(self.folder, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(stored, out)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


async def main(folder, port_file):
    os.makedirs(folder, exist_ok=True)
    handler = Mailbox(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="127.0.0.1"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(port))
    os.replace(port_file + ".tmp", port_file)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: smtp_server.py MAILBOX_DIR PORT_FILE")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
