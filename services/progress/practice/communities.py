"""Communities of practice (docs/practice.md): spaces per course, competency and cluster of schools
(an index of those with threads); text-first threads and replies, each post with its language;
moderation (report, hide, lock, feature, suspend a member) written to an audit trail. A post in a
locked thread is a 409; a suspended member's post a 403."""

from __future__ import annotations

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.progress.practice import repository
from services.progress.practice.models import ModerationEntry, Post, Space, Suspension, Thread
from services.progress.practice.schemas import (
    MemberModerateIn,
    ModerateIn,
    PostIn,
    PostPublic,
    SpaceIndex,
    SpaceListed,
    SpacePublic,
    ThreadIn,
    ThreadPublic,
)
from services.progress.practice.service import credit

KINDS = ("course", "competency", "cluster")
MODERATORS = ("institute_admin", "coordinator", "platform_admin")
HIDE_AFTER_REPORTS = 3


def space_of(session: Session, space_id: str) -> Space:
    """A space, made on first use: `course:<id>`, `competency:<code>` or `cluster:<code>`."""
    kind, _, ref = space_id.partition(":")
    if kind not in KINDS or not ref or len(space_id) > 120:
        raise NotFound("No such community space.")
    found = repository.space(session, space_id)
    if found is None:
        found = Space(id=space_id, kind=kind, title=ref)
        session.add(found)
        session.flush()
    return found


def index(session: Session) -> SpaceIndex:
    """The spaces with threads, the most recently active first."""
    return SpaceIndex(
        items=[
            SpaceListed(id=space.id, kind=space.kind, title=space.title, threads=n, featured=f, last_at=last)
            for space, n, f, last in repository.spaces_with_threads(session)
        ]
    )


def view_space(session: Session, space_id: str) -> SpacePublic:
    space = space_of(session, space_id)
    threads = [_thread(t) for t in repository.threads_of(session, space.id)]
    return SpacePublic(id=space.id, kind=space.kind, title=space.title, threads=threads)


def _thread(t: Thread, posts: list[Post] | None = None, moderator: bool = False) -> ThreadPublic:
    shown = [
        PostPublic(
            id=p.id,
            author_id=p.author_id if moderator else "",
            author_name=p.author_name,
            language=p.language,
            text="" if p.hidden and not moderator else p.text,
            hidden=p.hidden,
            created_at=p.created_at,
        )
        for p in posts or []
    ]
    return ThreadPublic(
        id=t.id, space_id=t.space_id, title=t.title, locked=t.locked, featured=t.featured, posts=shown
    )


def view_thread(session: Session, user: Principal, thread_id: str) -> ThreadPublic:
    thread = _get_thread(session, thread_id)
    return _thread(thread, repository.posts_of(session, thread.id), user.has(*MODERATORS))


def _get_thread(session: Session, thread_id: str) -> Thread:
    thread = repository.thread(session, thread_id)
    if thread is None:
        raise NotFound("No such thread.")
    return thread


def _may_post(session: Session, user: Principal) -> None:
    if repository.suspension(session, user.id) is not None:
        raise Forbidden("A moderator suspended you from the communities: you can read, not post.")


def start_thread(session: Session, user: Principal, space_id: str, body: ThreadIn) -> Thread:
    _may_post(session, user)
    space = space_of(session, space_id)
    thread = Thread(space_id=space.id, title=body.title, author_id=user.id)
    session.add(thread)
    session.flush()
    session.add(
        Post(
            thread_id=thread.id,
            author_id=user.id,
            author_name=user.name,
            language=body.language,
            text=body.text,
        )
    )
    return thread


def reply(session: Session, user: Principal, thread_id: str, body: PostIn) -> Post:
    thread = _get_thread(session, thread_id)
    _may_post(session, user)
    if thread.locked:
        raise Conflict("This thread is locked: it takes no more posts.")
    post = Post(
        thread_id=thread.id, author_id=user.id, author_name=user.name, language=body.language, text=body.text
    )
    session.add(post)
    return post


def moderate_thread(session: Session, user: Principal, thread_id: str, body: ModerateIn) -> Thread:
    """A moderator locks, unlocks or features a thread (as best practice); every act is audited."""
    if not user.has(*MODERATORS):
        raise Forbidden("Only moderators lock or feature threads.")
    if body.action not in ("lock", "unlock", "feature"):
        raise Unprocessable("A thread can be locked, unlocked or featured.")
    thread = _get_thread(session, thread_id)
    if body.action == "feature":
        thread.featured = True
        credit(
            session,
            thread.author_id,
            f"featured:{thread.id}",
            "featured",
            f"Best practice: {thread.title}",
            utcnow(),
        )
    else:
        thread.locked = body.action == "lock"
    session.add(thread)
    session.add(
        ModerationEntry(
            actor_id=user.id, action=body.action, target=f"thread:{thread.id}", reason=body.reason
        )
    )
    return thread


def moderate_post(session: Session, user: Principal, post_id: str, body: ModerateIn) -> Post:
    """Anyone reports a post (hidden after several reports); a moderator hides it. Audited."""
    post = repository.post(session, post_id)
    if post is None:
        raise NotFound("No such post.")
    if body.action == "report":
        post.reports += 1
        post.hidden = post.hidden or post.reports >= HIDE_AFTER_REPORTS
    elif body.action in ("hide", "suspend"):
        if not user.has(*MODERATORS):
            raise Forbidden("Only moderators hide posts or suspend their authors.")
        post.hidden = True
        if body.action == "suspend":
            moderate_member(
                session, user, post.author_id, MemberModerateIn(action="suspend", reason=body.reason)
            )
    else:
        raise Unprocessable("A post can be reported, hidden, or its author suspended.")
    session.add(post)
    session.add(
        ModerationEntry(actor_id=user.id, action=body.action, target=f"post:{post.id}", reason=body.reason)
    )
    return post


def moderate_member(session: Session, user: Principal, member_id: str, body: MemberModerateIn) -> None:
    """A moderator suspends a member from posting in every space, or reinstates them; audited."""
    if not user.has(*MODERATORS):
        raise Forbidden("Only moderators suspend members.")
    if member_id == user.id:
        raise Unprocessable("Moderators cannot suspend themselves.")
    found = repository.suspension(session, member_id)
    if body.action == "suspend" and found is None:
        session.add(Suspension(user_id=member_id, by=user.id, reason=body.reason))
    elif body.action == "reinstate":
        if found is None:
            raise NotFound("This member is not suspended.")
        session.delete(found)
    session.add(
        ModerationEntry(
            actor_id=user.id, action=body.action, target=f"member:{member_id}", reason=body.reason
        )
    )
