"""Accounts from the registry: activation with the national ID and a one-time code sent to the
registry's e-mail or phone, password reset the same way, staff invitations, join requests decided by
a coordinator, and the person's login sessions (refresh-token families).

Codes are six digits, kept only as a keyed hash, valid for `account_code_minutes`, used once, and
refused after `account_code_attempts` wrong tries. A function that checks a code returns its verdict
instead of raising, so the wrong attempt it counted is committed; the route raises after the commit.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from gateway import repository as identity
from gateway.models import User, outbox
from gateway.registry import accounts_repository, audit, repository
from gateway.registry.audit import Actor, mask_contact
from gateway.registry.models import AccountCode, RegistryTeacher
from gateway.registry.national_id import NationalIds
from gateway.registry.rows import EMAIL, USERNAME, RowError, check_name
from gateway.registry.teachers import display_name
from gateway.schemas import AccountMessage
from gateway.service import hash_password
from gateway.settings import GatewaySettings
from libs.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from libs.outbox import emit, utcnow

CODES_PER_HOUR = 5
CODE_INTERVAL = timedelta(seconds=60)
INVITE_DAYS = 7
NO_EMAIL_DOMAIN = "no-email.invalid"  # users.email is required and unique; a teacher may have only a phone
STAFF_ROLES = ("author", "institute_admin")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class CodeSent:
    channel: str
    destination: str  # masked
    minutes: int


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check that must be committed either way: None is success."""

    problem: str | None = None
    user_id: str | None = None


def _code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def contact(email: str, phone: str, channel: str | None) -> tuple[str, str]:
    if channel == "sms" and phone:
        return "sms", phone
    if channel == "email" and email:
        return "email", email
    if email:
        return "email", email
    if phone:
        return "sms", phone
    raise Conflict(
        "The registry has no e-mail address or phone number for you: ask your school's coordinator to add one."
    )


def _issue_code(
    session: Session,
    ids: NationalIds,
    settings: GatewaySettings,
    *,
    purpose: str,
    subject: str,
    channel: str,
    address: str,
    language: str,
    link: str,
    minutes: int,
) -> CodeSent:
    now = utcnow()
    if accounts_repository.codes_since(session, subject, now - timedelta(hours=1)) >= CODES_PER_HOUR:
        raise TooManyRequests(3600, "Too many codes were asked for in the last hour. Try again later.")
    earlier = accounts_repository.open_codes(session, purpose, subject)
    if any(now - c.created_at < CODE_INTERVAL for c in earlier):
        raise TooManyRequests(
            60, "A code was sent less than a minute ago. Wait for it, or try again in a minute."
        )
    for old in earlier:  # a new code replaces every earlier one
        old.used_at = now
        session.add(old)
    code = _code()
    session.add(
        AccountCode(
            purpose=purpose,
            subject=subject,
            code_hash=ids.code_hash(purpose, subject, code),
            channel=channel,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    emit(
        session,
        outbox,
        AccountMessage(
            message_id=str(uuid.uuid4()),
            user_id=subject,
            kind=f"{'activation' if purpose == 'activate' else purpose}_code",
            channel=channel,
            address=address,
            language=language or "ru",
            code=code,
            minutes=minutes,
            link=link,
        ),
    )
    return CodeSent(channel, mask_contact(address), minutes)


def check_code(
    session: Session,
    ids: NationalIds,
    settings: GatewaySettings,
    purposes: tuple[str, ...],
    subject: str,
    code: str,
) -> str | None:
    """None if `code` is the live code of `subject` (then it is used up), else why not. A wrong code
    counts an attempt on the live one."""
    now = utcnow()
    live = [
        c
        for purpose in purposes
        for c in accounts_repository.open_codes(session, purpose, subject)
        if c.expires_at > now
    ]
    if not live:
        return "This code has expired or was already used. Ask for a new one."
    current = max(live, key=lambda c: c.created_at)
    if current.attempts >= settings.account_code_attempts:
        return "Too many wrong codes. Ask for a new one."
    expected = ids.code_hash(current.purpose, subject, code.strip())
    if not hmac.compare_digest(current.code_hash, expected):
        current.attempts += 1
        session.add(current)
        return "This code is not right. Check it and try again."
    current.used_at = now
    session.add(current)
    return None


def _registry_entry(session: Session, ids: NationalIds, national_id: str) -> RegistryTeacher:
    nid = ids.rule.normalize(national_id)
    if problem := ids.rule.problem(nid):
        raise Unprocessable(f"national_id: {problem}.", field="national_id")
    teacher = repository.teacher_by_hash(session, ids.lookup(nid))
    if teacher is None:
        raise NotFound(
            "This national ID is not in the teacher registry. Ask to join with your school's code.",
            field="national_id",
        )
    return teacher


# -- activation ---------------------------------------------------------------------------------------


def start_activation(
    session: Session, ids: NationalIds, settings: GatewaySettings, national_id: str, channel: str | None
) -> CodeSent:
    teacher = _registry_entry(session, ids, national_id)
    if teacher.user_id is not None:
        raise Conflict(
            "This national ID already has an account: log in, or reset the password.", field="national_id"
        )
    if teacher.status != "active":
        raise Forbidden("The registry lists you as having left teaching: ask your school's coordinator.")
    kind, address = contact(teacher.email, teacher.phone, channel)
    return _issue_code(
        session,
        ids,
        settings,
        purpose="activate",
        subject=teacher.id,
        channel=kind,
        address=address,
        language=teacher.lang,
        link=f"{settings.public_url}/activate",
        minutes=settings.account_code_minutes,
    )


def check_new_login(session: Session, username: str, password: str) -> None:
    if not USERNAME.fullmatch(username):
        raise Unprocessable("A username is 2 to 80 letters, digits, dots, dashes, @ or +.", field="username")
    if identity.user_by_login(session, username) is not None:
        raise Conflict("This username is taken: choose another.", field="username")
    if len(password) < MIN_PASSWORD:
        raise Unprocessable(f"A password has at least {MIN_PASSWORD} characters.", field="password")


def confirm_activation(
    session: Session,
    ids: NationalIds,
    settings: GatewaySettings,
    national_id: str,
    code: str,
    username: str,
    password: str,
) -> Verdict:
    """The account of a registry teacher: its id is the registry id, so whatever was recorded for the
    teacher by registry id (a cohort enrolment) is theirs from the first login. Name and school come
    from the registry."""
    teacher = _registry_entry(session, ids, national_id)
    if teacher.user_id is not None:  # whatever code this is, it can no longer activate anything
        return Verdict(
            "This code was already used: this national ID has its account. Log in, or reset the password."
        )
    username = username.strip()
    check_new_login(session, username, password)
    problem = check_code(session, ids, settings, ("activate",), teacher.id, code)
    if problem:
        return Verdict(problem)
    email = (
        teacher.email
        if teacher.email and accounts_repository.user_by_email(session, teacher.email) is None
        else ""
    )
    user = User(
        id=teacher.id,
        username=username,
        email=email or f"{teacher.id}@{NO_EMAIL_DOMAIN}",
        display_name=display_name(teacher),
        password_hash=hash_password(password),
        roles=["teacher"],
        org_unit_id=teacher.school_id,
        lang=teacher.lang or "ru",
    )
    session.add(user)
    session.flush()
    teacher.user_id = user.id
    session.add(teacher)
    repository.insert_teacher_history(
        session,
        [
            {
                "id": str(uuid.uuid4()),
                "teacher_id": teacher.id,
                "at": utcnow(),
                "change": "linked",
                "before": {},
                "after": {"user_id": user.id, "username": username},
                "import_id": None,
                "actor_id": user.id,
            }
        ],
    )
    audit.record(
        session, Actor(user.id, username), "account.activate", f"user:{user.id}", {}, {"username": username}
    )
    return Verdict(None, user.id)


# -- password reset and invitations -------------------------------------------------------------------


def account_for(session: Session, ids: NationalIds, login: str) -> tuple[User, RegistryTeacher | None] | None:
    login = login.strip()
    nid = ids.rule.normalize(login)
    if not ids.rule.problem(nid):
        teacher = repository.teacher_by_hash(session, ids.lookup(nid))
        if teacher is None or teacher.user_id is None:
            return None
        user = accounts_repository.user(session, teacher.user_id)
        return (user, teacher) if user else None
    user = identity.user_by_login(session, login)
    if user is None:
        return None
    return user, repository.teacher_by_user(session, user.id)


def start_reset(session: Session, ids: NationalIds, settings: GatewaySettings, login: str) -> CodeSent | None:
    """A reset code to the registry's contact of a teacher, else the account's e-mail. None (and the page
    says the same as on success) when there is no such account, so the form does not tell who exists."""
    found = account_for(session, ids, login)
    if found is None:
        return None
    user, teacher = found
    email = teacher.email if teacher else ("" if user.email.endswith(NO_EMAIL_DOMAIN) else user.email)
    try:
        channel, address = contact(email, teacher.phone if teacher else "", None)
    except Conflict:
        return None
    return _issue_code(
        session,
        ids,
        settings,
        purpose="reset",
        subject=user.id,
        channel=channel,
        address=address,
        language=user.lang,
        link=f"{settings.public_url}/password-reset",
        minutes=settings.account_code_minutes,
    )


def confirm_reset(
    session: Session, ids: NationalIds, settings: GatewaySettings, login: str, code: str, password: str
) -> Verdict:
    """A new password for the account (reset or invitation); every session of the account ends."""
    found = account_for(session, ids, login)
    if found is None:
        return Verdict("This code has expired or was already used. Ask for a new one.")
    user, _ = found
    if len(password) < MIN_PASSWORD:
        raise Unprocessable(f"A password has at least {MIN_PASSWORD} characters.", field="password")
    problem = check_code(session, ids, settings, ("reset", "invite"), user.id, code)
    if problem:
        return Verdict(problem)
    user.password_hash = hash_password(password)
    user.active = True
    session.add(user)
    accounts_repository.revoke_user_families(session, user.id, utcnow())
    audit.record(session, Actor(user.id, user.username), "account.password_reset", f"user:{user.id}")
    return Verdict(None, user.id)


def invite_staff(
    session: Session,
    ids: NationalIds,
    settings: GatewaySettings,
    actor: Actor,
    institute_id: str,
    email: str,
    name: str,
    role: str,
    lang: str,
) -> User:
    """An author or reviewer (institute admin) of the institute: an account without a password and an
    invitation code by e-mail, with which they set one."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise Unprocessable("email: is not an e-mail address.", field="email")
    if role not in STAFF_ROLES:
        raise Unprocessable(f"role: one of {', '.join(STAFF_ROLES)}.", field="role")
    errors: list[RowError] = []
    name = check_name(name, "name", 0, True, errors)
    if errors:
        raise Unprocessable(f"name: {errors[0].reason}.", field="name")
    user = accounts_repository.user_by_email(session, email)
    before: dict[str, Any] = {}
    if user is not None:
        if user.institute_id not in (None, institute_id):
            raise Conflict("This person belongs to another institute.", field="email")
        before = {"roles": list(user.roles), "institute_id": user.institute_id}
        user.roles = sorted({*user.roles, role})
        user.institute_id = institute_id
    else:
        user = User(
            username=_free_username(session, email),
            email=email,
            display_name=name,
            password_hash="!invited",  # no password verifies against it until the invitee sets one
            roles=[role],
            institute_id=institute_id,
            lang=lang or "ru",
        )
    session.add(user)
    session.flush()
    _issue_code(
        session,
        ids,
        settings,
        purpose="invite",
        subject=user.id,
        channel="email",
        address=email,
        language=user.lang,
        link=f"{settings.public_url}/password-reset?login={user.username}",
        minutes=INVITE_DAYS * 24 * 60,
    )
    after = {"roles": list(user.roles), "institute_id": institute_id, "email": email}
    audit.record(session, actor, "staff.invite", f"user:{user.id}", before, after)
    return user


def _free_username(session: Session, email: str) -> str:
    base = "".join(c for c in email.split("@")[0] if c.isalnum() or c in "._-")[:60] or "user"
    candidate, n = base, 1
    while identity.user_by_login(session, candidate) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def remove_staff(session: Session, actor: Actor, institute_id: str, user_id: str, role: str) -> None:
    user = accounts_repository.user(session, user_id)
    if user is None or user.institute_id != institute_id or role not in user.roles or role not in STAFF_ROLES:
        raise NotFound("No such member of your institute's staff.")
    before = {"roles": list(user.roles), "active": user.active}
    user.roles = [r for r in user.roles if r != role]
    if not user.roles:
        user.active = False
    session.add(user)
    accounts_repository.revoke_user_families(session, user.id, utcnow())
    audit.record(
        session,
        actor,
        "staff.remove",
        f"user:{user.id}",
        before,
        {"roles": user.roles, "active": user.active},
    )
