"""A complaint as the server holds it between the form and the spool, and as a JSON record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .evidence import Evidence
from .vocabulary import CATEGORIES, RECIPIENTS


@dataclass(frozen=True)
class Complaint:
    reference: str
    submitted_at: datetime  # aware, in the estate's time zone
    reply_due: date
    recipient: str  # office or committee
    category: str
    name: str
    unit: str
    phone: str
    email: str
    subject: str
    description: str
    occurred_at: datetime | None
    location: str
    impact: str
    expected_resolution: str
    follow_up_ref: str = ""
    respondent: str = ""  # who or what is complained about (投訴對象)
    anonymized: bool = False
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def recipient_label(self) -> str:
        return RECIPIENTS[self.recipient]


def to_record(complaint: Complaint) -> dict:
    """The complaint as JSON-ready data, files reduced to what describes them."""
    record = {name: getattr(complaint, name) for name in Complaint.__dataclass_fields__}
    record["submitted_at"] = complaint.submitted_at.isoformat()
    record["reply_due"] = complaint.reply_due.isoformat()
    record["occurred_at"] = complaint.occurred_at.isoformat() if complaint.occurred_at else None
    record["evidence"] = [item.record() for item in complaint.evidence]
    return record


def from_record(record: dict) -> Complaint:
    """The inverse of to_record, files described only: enough to show or print the complaint."""
    values = dict(record)
    values["submitted_at"] = datetime.fromisoformat(values["submitted_at"])
    values["reply_due"] = date.fromisoformat(values["reply_due"])
    if values["occurred_at"]:
        values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
    values["evidence"] = tuple(Evidence(**item) for item in values["evidence"])
    return Complaint(**values)


def from_answers(answers: dict, *, reference: str, evidence: tuple[Evidence, ...],
                 submitted_at: datetime, reply_due: date) -> Complaint:
    """The complaint made of the form's answers as a draft keeps them."""
    occurred_at = answers["occurred_at"]
    return Complaint(
        reference=reference,
        submitted_at=submitted_at,
        reply_due=reply_due,
        recipient=answers["recipient"],
        category=answers["category"],
        name=answers["name"],
        unit=answers["unit"],
        phone=answers["phone"] or "",
        email=answers["email"] or "",
        subject=answers["subject"],
        description=answers["description"],
        occurred_at=datetime.fromisoformat(occurred_at) if occurred_at else None,
        location=answers["location"],
        impact=answers["impact"] or "",
        expected_resolution=answers["expected_resolution"],
        follow_up_ref=answers["follow_up_ref"] or "",
        respondent=answers.get("respondent") or "",
        evidence=evidence,
    )
