"""A real SMTP server in process (aiosmtpd) on 127.0.0.1, recording what it accepts.

Fixture `smtp_server` -> `SmtpSink`: `.host`, `.port`, `.received` (each with envelope sender,
recipients and the parsed message), `.refuse(address)` to answer RCPT with
`550 5.1.1 No such user`, `.slow_down(seconds)` to take that long over each message before
accepting it (a slow server: a delivery run lasts long enough to be interrupted), and `.stop()` /
`.start()` to take it down and bring it back on the same port.

Fixture `smtp_tls_server` -> `SecureSmtp`: a sink that requires STARTTLS (a self-signed
certificate for 127.0.0.1) and a login (`SMTP_LOGIN`), with the `client_context` that trusts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.ports import free_port

HOST = "127.0.0.1"
NO_SUCH_USER = "550 5.1.1 No such user"
SMTP_LOGIN = ("mailer", "s3cret")


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    encrypted: bool = False
    login: str | None = None

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class RecordingHandler:
    """aiosmtpd hooks: refuse the listed recipients, record every accepted message."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused: set[str] = set()
        self.delay = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            # Before recording: a client gone meanwhile cancels this handler, and the message
            # counts as received only when the reply is on its way.
            await asyncio.sleep(self.delay)
        # Runs on the server's thread; list.append is atomic, and the client's send returns only
        # after this reply, so a test reads `received` after its send without waiting.
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        encrypted = session.ssl is not None
        login = session.auth_data if session.authenticated else None
        self.received.append(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, encrypted, login)
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = (auth_data.login.decode(), auth_data.password.decode())
            if login == SMTP_LOGIN:
                return AuthResult(success=True, auth_data=login[0])
        return AuthResult(success=False, handled=False)


class SmtpSink:
    """The server under the test's control; it keeps its port (and records) across stop/start."""

    def __init__(self, port: int, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.host = HOST
        self.port = port
        self.handler = RecordingHandler()
        self._options: dict[str, Any] = {} if tls_context is None else self._secure(tls_context)
        self._controller: Controller | None = None

    def _secure(self, tls_context: ssl.SSLContext) -> dict[str, Any]:
        return {
            "tls_context": tls_context,
            "require_starttls": True,
            "auth_required": True,
            "auth_require_tls": True,
            "authenticator": self.handler.authenticate,
        }

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def message_ids(self) -> list[str]:
        return [received.message_id for received in self.received]

    def refuse(self, address: str) -> None:
        self.handler.refused.add(address.lower())

    def slow_down(self, seconds: float) -> None:
        """Take `seconds` over each message before accepting it (0: at once)."""
        self.handler.delay = seconds

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(
                self.handler, hostname=HOST, port=self.port, ready_timeout=5.0, **self._options
            )
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None


@contextlib.contextmanager
def started_sink() -> Iterator[SmtpSink]:
    """A sink on a free port, for as long as the block runs."""
    sink = SmtpSink(free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    with started_sink() as sink:
        yield sink


@dataclass(frozen=True)
class SecureSmtp:
    sink: SmtpSink
    client_context: ssl.SSLContext


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day; returns (certificate, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SecureSmtp]:
    cert_path, key_path = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    sink = SmtpSink(free_port(), tls_context=server_context)
    sink.start()
    try:
        yield SecureSmtp(sink, ssl.create_default_context(cafile=str(cert_path)))
    finally:
        sink.stop()
