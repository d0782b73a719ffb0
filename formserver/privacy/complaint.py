"""De-identification of a whole complaint (脫敏處理), as the office will receive it."""

from __future__ import annotations

from dataclasses import replace

from .masking import mask_email, mask_name, mask_phone, mask_unit
from .text import redact_text

TEXT_FIELDS = ("respondent", "subject", "description", "location", "impact", "expected_resolution")


def deidentify(complaint, region: str):
    """Mask the resident's own details and redact personal data from the free text."""
    own = {"name": complaint.name, "unit": complaint.unit, "phone": complaint.phone,
           "email": complaint.email}
    texts = {name: redact_text(getattr(complaint, name), region=region, own=own)
             for name in TEXT_FIELDS}
    return replace(
        complaint,
        name=mask_name(complaint.name),
        unit=mask_unit(complaint.unit),
        phone=mask_phone(complaint.phone) if complaint.phone else "",
        email=mask_email(complaint.email) if complaint.email else "",
        anonymized=True,
        **texts,
    )
