"""The case store: what it keeps (and what not), the resident's email sealed at rest, the
status transitions, and changes for an old version refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import VALID_COMPLAINT
from loop_helpers import confirmation

from formserver import cases, crypto
from formserver.workdays import local_now


def dump(path: Path) -> bytes:
    """Every byte of the store, its write-ahead log included."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_the_store_keeps_the_email_sealed_and_nothing_else_of_the_resident(app, client):
    reference, _ = confirmation(client, subject=f"{VALID_COMPLAINT['name']}：升降機又壞了")
    db_path = Path(app.config["CASE_DB"])
    stored = dump(db_path)
    for value in (*VALID_COMPLAINT.values(), "chan.taiman", "91234567", "12樓"):
        if value not in ("y", "office", "facilities"):
            assert value.encode() not in stored, value
    with cases.store(db_path) as db:
        sealed = cases.secrets_of(db, reference)[1]
        case = cases.load(db, reference)
    assert crypto.unseal(sealed, app.config["SECRET_KEY"]) == VALID_COMPLAINT["email"]
    assert crypto.unseal(sealed, "another secret") is None
    assert crypto.unseal(sealed[:-4] + "AAAA", app.config["SECRET_KEY"]) is None
    assert case.has_email and "升降機又壞了" in case.subject
    assert db_path.stat().st_mode & 0o777 == 0o600


def test_without_an_email_nothing_is_sealed(app, client):
    reference, _ = confirmation(client, email="")
    with cases.store(Path(app.config["CASE_DB"])) as db:
        assert cases.secrets_of(db, reference)[1] is None
        assert not cases.load(db, reference).has_email


def test_keys_for_different_purposes_are_independent():
    keys = {crypto.derived_key("secret", purpose) for purpose in ("case email v1", "case link",
                                                                  "access code", "office login")}
    assert len(keys) == 4 and all(len(key) == 32 for key in keys)
    assert crypto.keyed_hash("x", "secret", "case link") != crypto.keyed_hash("x", "other",
                                                                                "case link")


@pytest.mark.parametrize(("status", "step", "after"), [
    ("submitted", "acknowledge", "acknowledged"),
    ("replied", "acknowledge", "in_progress"),
    ("reopened", "acknowledge", "in_progress"),
    ("acknowledged", "acknowledge", None),
    ("submitted", "reply", "replied"),
    ("in_progress", "replied_directly", "replied"),
    ("reopened", "resolve", "resolved"),
    ("resolved", "reply", None),
    ("closed", "resolve", None),
    ("resolved", "satisfied", "closed"),
    ("replied", "satisfied", None),
    ("closed", "follow_up", "reopened"),
])
def test_each_step_moves_the_case_to_the_guidance_s_next_status(status, step, after):
    now = local_now("HK")
    case = cases.Case("20261127-K7Q-4M2", "facilities", "office", "升降機", False, status, False,
                      now, now.date(), 0, 3, now, None, ())
    if after is None:
        with pytest.raises(cases.NotAllowed) as refusal:
            cases.next_status(case, step)
        assert str(refusal.value)  # a sentence for the page
    else:
        assert cases.next_status(case, step) == after


def test_a_change_for_a_version_the_case_has_left_is_stale_and_changes_nothing(app, client):
    reference, _ = confirmation(client)
    now = local_now("HK")
    with cases.store(Path(app.config["CASE_DB"])) as db:
        shown = cases.load(db, reference)
        with cases.transaction(db):
            cases.record(db, shown, "acknowledged", now, status="acknowledged")
        with pytest.raises(cases.Stale), cases.transaction(db):
            cases.record(db, shown, "replied", now + timedelta(minutes=1), status="replied")
        case = cases.load(db, reference)
    assert case.status == "acknowledged" and [e.kind for e in case.events][-1] == "acknowledged"


def test_a_link_opens_its_case_until_it_expires(app, client):
    from formserver import access

    reference, _ = confirmation(client)
    now = local_now("HK")
    with cases.store(Path(app.config["CASE_DB"])) as db:
        link = access.issue_link(db, reference, app.config, now)
        days = app.config["CASE_LINK_DAYS"]
        assert access.case_for_token(db, link.token, app.config, now).reference == reference
        before = now + timedelta(days=days) - timedelta(seconds=1)
        assert access.case_for_token(db, link.token, app.config, before) is not None
        assert access.case_for_token(db, link.token, app.config,
                                     now + timedelta(days=days)) is None
        assert link.token.encode() not in dump(Path(app.config["CASE_DB"]))
