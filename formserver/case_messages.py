"""The case's messages, pure like messages.py and with its templates (templates/email/):
to the resident, the office's reply relayed and the satisfaction question, from MAIL_FROM
in the thread of their receipt; to the office, the reminder; to the committee, the escalation
and the weekly digest. None of the office's messages holds the resident's address or
anything else about them, and none of the resident's shows the clerk's mailbox."""

from __future__ import annotations

from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from .cases import Case, Event
from .editions import for_edition
from .messages import address, mail_address, message_id, render, routed


def new_message(subject: str, when: datetime, config, to: list[str], cc=()) -> tuple:
    # An address with a non-ASCII local part goes raw in UTF-8, for a server with SMTPUTF8.
    msg = EmailMessage(policy=policy.SMTP if all(map(str.isascii, to)) else policy.SMTPUTF8)
    msg["Subject"] = subject
    msg["From"] = config["MAIL_FROM"]
    staging_note = address(msg, to, [a for a in cc if a not in to], config)
    msg["Date"] = format_datetime(when)
    msg["Auto-Submitted"] = "auto-generated"
    return msg, staging_note


def threaded(msg: EmailMessage, reference: str, kind: str, under: str, config) -> None:
    msg["Message-ID"] = message_id(reference, config["MAIL_FROM"], kind)
    earlier = message_id(reference, config["MAIL_FROM"], under)
    msg["In-Reply-To"] = earlier
    msg["References"] = earlier
    msg["X-Complaint-Reference"] = reference


def to_resident(case: Case, event: Event, to: str, subject: str, template: str, config,
                **context) -> EmailMessage:
    """From MAIL_FROM to the resident, under their receipt; no Reply-To (the office's own
    addresses stay out of it)."""
    msg, staging_note = new_message(for_edition(subject, case.edition), event.at, config,
                                    [mail_address(to)])
    threaded(msg, case.reference, f"{event.kind}-{event.id}", "ack", config)
    msg["X-Complaint-Kind"] = "to-resident"  # if it cannot be delivered, the case says so
    msg.set_content(staging_note + render(template, case.edition, case=case, event=event,
                                          site=config["SITE"], **context))
    return msg


def build_relay(case: Case, event: Event, to: str, status_url: str, config) -> EmailMessage:
    return to_resident(case, event, to, f"回覆：您的投訴（編號 {case.reference}）",
                       "email/relay.txt", config, status_url=status_url)


def build_satisfaction(case: Case, event: Event, to: str, answer_urls: dict[str, str],
                       status_url: str, config) -> EmailMessage:
    subject = f"您的投訴（編號 {case.reference}）已處理：問題是否已解決？"
    return to_resident(case, event, to, subject, "email/satisfaction.txt", config,
                       answer_urls=answer_urls, status_url=status_url)


def to_office(case: Case, kind: str, who: str, subject: str, template: str, now: datetime,
              config, **context) -> EmailMessage:
    """A notice about a case to the office (who="office", the case's own recipients) or to the
    committee, in the thread of the complaint."""
    to = (routed(case.recipient, case.category, config) if who == "office"
          else routed("committee", case.category, config))
    msg, staging_note = new_message(f"[投訴 {case.reference}] {subject}", now, config, to)
    threaded(msg, case.reference, f"{kind}-{case.cycle}", "", config)
    msg["X-Complaint-Case-URL"] = context["case_url"]
    msg.set_content(staging_note + render(template, case=case, now=now, site=config["SITE"],
                                          **context))
    return msg


def build_reminder(case: Case, case_url: str, now: datetime, config) -> EmailMessage:
    return to_office(case, "reminder", "office", "提醒：已過首次回覆限期", "email/reminder.txt",
                     now, config, case_url=case_url)


def build_escalation(case: Case, case_url: str, now: datetime, age_days: int,
                     config) -> EmailMessage:
    return to_office(case, "escalation", "committee", "逾期未處理：通知業主委員會",
                     "email/escalation.txt", now, config, case_url=case_url, age_days=age_days)


def build_digest(summary: dict, first_day: date, last_day: date, now: datetime,
                 config) -> EmailMessage:
    to = routed("committee", "", config)
    msg, staging_note = new_message(f"投訴處理每週摘要（{first_day} 至 {last_day}）", now,
                                    config, to)
    msg["Message-ID"] = message_id(f"digest-{first_day}", config["MAIL_FROM"])
    msg.set_content(staging_note + render("email/digest.txt", summary=summary,
                                          first_day=first_day, last_day=last_day,
                                          site=config["SITE"]))
    return msg
