"""Optional e-mail notice of a new referral, through SMTP when configured.

The notice never carries case content: no code, no name, no service detail; only that
something waits and where to sign in. Failure to send never fails the referral.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from referral.db import User
from referral.extensions import db
from referral.referrals.models import Referral
from referral.security.policy import Permission, has_permission

log = logging.getLogger(__name__)

SUBJECT = "referral: something is waiting for your organisation"


def _body() -> str:
    where = current_app.config.get("PUBLIC_BASE_URL") or "the referral application"
    return (
        "A new referral is waiting for your organisation.\n\n"
        f"Sign in to see it: {where}\n\n"
        "This message contains no case information on purpose.\n"
    )


def recipients_for(organisation_id: int) -> list[str]:
    users = db.session.scalars(
        select(User).where(User.organisation_id == organisation_id, User.active)
    ).all()
    return sorted(u.email for u in users if has_permission(u, Permission.RECEIVE_REFERRALS))


def new_referral(referral: Referral) -> int:
    """Send the notice to the receiving organisation's receivers; return how many were sent."""
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        return 0
    recipients = recipients_for(referral.receiving_organisation_id)
    if not recipients:
        return 0
    try:
        with smtplib.SMTP(host, int(config.get("SMTP_PORT", 25)), timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                # The server's certificate and name are verified: an unverified STARTTLS
                # hands the SMTP password to whoever sits on the path.
                cafile = config.get("SMTP_CA_FILE") or None
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD", ""))
            for address in recipients:
                message = EmailMessage()
                message["From"] = config.get("SMTP_SENDER", "referral@localhost")
                message["To"] = address
                message["Subject"] = SUBJECT
                message.set_content(_body())
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("referral notice not sent: %s", type(error).__name__)
        return 0
    return len(recipients)
