"""Inbox sections of the case workflow (R8, R10, R12, R9) and the SMTP notice."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from referral import clock
from referral.cases import services as cases
from referral.cases.models import ClosureReason
from referral.db import Organisation
from referral.directory.models import Sector, Service
from referral.extensions import db
from referral.home.inbox import inbox_for
from referral.referrals import notify
from referral.referrals.models import Priority, Referral
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import (
    Person,
    incident,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)
from tests.tls_helpers import self_signed_certificate


@pytest.fixture(autouse=True)
def _request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def people(org: Organisation, clinic: Organisation) -> dict[str, Person]:
    return {
        "caseworker": make_person(Role.CASEWORKER, org),
        "supervisor": make_person(Role.SUPERVISOR, org),
        "receiver": make_person(Role.SERVICE_FOCAL_POINT, clinic),
    }


@pytest.fixture
def health(clinic: Organisation, people: dict[str, Person]) -> Service:
    service = make_service(clinic, Sector.HEALTH)
    publish_pathway(people["caseworker"].user, [service])
    return service


def _sections(person: Person) -> dict[str, list[Any]]:
    return {str(s.title): s.items for s in inbox_for(person.user)}


def _refer(person: Person, health: Service, priority: Priority = Priority.EMERGENCY) -> Referral:
    case = open_case(person.user)
    consent = referral_consent(case, person.user, health)
    referral = cases.refer(
        case, request(health, priority=priority), consent=consent, actor=person.user
    )
    db.session.commit()
    return referral


def test_r10_receiver_inbox_lists_referrals_awaiting_answer(
    people: dict[str, Person], health: Service
) -> None:
    referral = _refer(people["caseworker"], health)
    sections = _sections(people["receiver"])
    awaiting = sections["Referrals awaiting your organisation's answer"]
    assert [i.title for i in awaiting] == [f"{referral.reference} · {referral.survivor_code}"]
    assert "Referrals awaiting your organisation's answer" not in _sections(people["caseworker"])


def test_r12_overdue_flagged_in_sender_and_receiver_inboxes(
    people: dict[str, Person], health: Service
) -> None:
    referral = _refer(people["caseworker"], health, Priority.EMERGENCY)
    assert _sections(people["receiver"])["Overdue referrals"] == []
    clock.advance(timedelta(hours=25))
    for who in ("receiver", "caseworker", "supervisor"):
        items = _sections(people[who])["Overdue referrals"]
        assert [i.title.split(" · ")[0] for i in items] == [referral.reference], who
        assert "overdue" in items[0].detail


def test_r8_clinical_windows_closing_in_caseworker_inbox(
    people: dict[str, Person], health: Service
) -> None:
    case = open_case(people["caseworker"].user)
    incident(case, people["caseworker"].user, hours_ago=60, penetration=True)
    items = _sections(people["caseworker"])["Clinical windows closing"]
    assert [i.title for i in items] == [case.survivor_code]
    assert "in 12 hours" in items[0].detail
    clock.advance(timedelta(hours=61))
    assert _sections(people["caseworker"])["Clinical windows closing"] == []


def test_r9_closures_awaiting_approval_in_supervisor_inbox(
    people: dict[str, Person], health: Service
) -> None:
    case = open_case(people["caseworker"].user)
    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=people["caseworker"].user)
    db.session.commit()
    items = _sections(people["supervisor"])["Case closures awaiting your approval"]
    assert [i.title for i in items] == [case.survivor_code]
    assert "Case closures awaiting your approval" not in _sections(people["caseworker"])


class TinySMTPServer:
    """A minimal SMTP server on localhost that keeps what it receives."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # offers STARTTLS with this server context
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.messages: list[dict[str, Any]] = []
        self.refused_handshakes = 0
        # Set by the server's thread once it has seen a handshake fail: the client gives
        # up first, so the test waits for the server to catch up before counting.
        self.handshake_refused = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        stream = conn.makefile("rwb")

        def send(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        send("220 tiny ready")
        current: dict[str, Any] = {"rcpt": []}
        while True:
            raw = stream.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                send("250-tiny\r\n250 STARTTLS" if self.tls else "250 tiny")
            elif verb == "STARTTLS" and self.tls is not None:
                send("220 go ahead")
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    self.refused_handshakes += 1
                    self.handshake_refused.set()
                    return
                stream = conn.makefile("rwb")
            elif verb == "MAIL":
                current = {"from": line, "rcpt": []}
                send("250 ok")
            elif verb == "RCPT":
                current["rcpt"].append(line)
                send("250 ok")
            elif verb == "DATA":
                send("354 go")
                body = []
                while True:
                    data = stream.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    body.append(data)
                current["data"] = b"".join(body).decode()
                self.messages.append(current)
                send("250 queued")
            elif verb == "QUIT":
                send("221 bye")
                return
            else:
                send("250 ok")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[TinySMTPServer]:
    server = TinySMTPServer()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    try:
        yield server
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25)
        server.close()


def test_notice_sent_by_smtp_without_case_content(
    app: Flask, people: dict[str, Person], health: Service, smtp_server: TinySMTPServer
) -> None:
    case = open_case(people["caseworker"].user, name="Canary Smtpname")
    consent = referral_consent(case, people["caseworker"].user, health, shared=("name",))
    client = app.test_client()
    sign_in(client, people["caseworker"])
    response = form_post(
        client,
        f"/cases/{case.public_id}/refer",
        {
            "service": health.public_id,
            "priority": "urgent",
            "needs": "health",
            "consent": consent.public_id,
            "shared_fields": "name",
            "note": "Secret note canary",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert people["receiver"].email in message["rcpt"][0]
    text = message["data"]
    assert "Sign in" in text
    referral = db.session.scalar(db.select(Referral))
    assert referral is not None
    for secret in (
        "Canary Smtpname",
        "Secret note canary",
        case.survivor_code,
        referral.reference,
        health.name,
    ):
        assert secret not in text


def test_notice_needs_configuration_and_failure_never_breaks(
    app: Flask, people: dict[str, Person], health: Service
) -> None:
    referral = _refer(people["caseworker"], health)
    assert notify.new_referral(referral) == 0  # no SMTP_HOST: nothing sent
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    try:
        assert notify.new_referral(referral) == 0
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25)


def test_item7_smtp_starttls_verifies_the_servers_certificate(
    app: Flask, people: dict[str, Person], health: Service, tmp_path: Path
) -> None:
    """STARTTLS uses a default SSL context: a certificate nobody vouches for stops the
    notice before any address or password is sent; one from a trusted CA lets it through."""
    cert, key = self_signed_certificate(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server = TinySMTPServer(tls=server_tls)
    referral = _refer(people["caseworker"], health)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=True)
    try:
        assert notify.new_referral(referral) == 0
        assert server.messages == []
        assert server.handshake_refused.wait(timeout=30)  # the client refused the certificate
        assert server.refused_handshakes == 1

        app.config.update(SMTP_CA_FILE=str(cert))  # now the certificate is vouched for
        assert notify.new_referral(referral) == 1
        assert people["receiver"].email in server.messages[0]["rcpt"][0]
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25, SMTP_STARTTLS=False, SMTP_CA_FILE="")
        server.close()
