"""Communities of practice (docs/practice.md): spaces per course, competency and cluster of schools;
text-first threads and replies, each post with its language; moderation (report, hide, lock, feature)
written to an audit trail. A post in a locked thread is a 409."""

from __future__ import annotations

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.progress.practice import repository
from services.progress.practice.models import ModerationEntry, Post, Space, Thread
from services.progress.practice.schemas import (
    ModerateIn,
    PostIn,
    PostPublic,
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


def view_space(session: Session, space_id: str) -> SpacePublic:
    space = space_of(session, space_id)
    threads = [_thread(t) for t in repository.threads_of(session, space.id)]
    return SpacePublic(id=space.id, kind=space.kind, title=space.title, threads=threads)


def _thread(t: Thread, posts: list[Post] | None = None, moderator: bool = False) -> ThreadPublic:
    shown = [
        PostPublic(
            id=p.id,
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


def start_thread(session: Session, user: Principal, space_id: str, body: ThreadIn) -> Thread:
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
    elif body.action == "hide":
        if not user.has(*MODERATORS):
            raise Forbidden("Only moderators hide posts.")
        post.hidden = True
    else:
        raise Unprocessable("A post can be reported or hidden.")
    session.add(post)
    session.add(
        ModerationEntry(actor_id=user.id, action=body.action, target=f"post:{post.id}", reason=body.reason)
    )
    return post
