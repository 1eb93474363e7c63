"""Every query of the package tables (packages, their files, launches)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.progress.lrs.models import ContentPackage, LaunchSession, PackageFile


def package(session: Session, package_id: str) -> ContentPackage | None:
    return session.get(ContentPackage, package_id)


def packages_of(session: Session, course_id: str) -> list[ContentPackage]:
    return list(
        session.exec(
            select(ContentPackage)
            .where(ContentPackage.course_id == course_id)
            .order_by(col(ContentPackage.created_at))
        )
    )


def file(session: Session, package_id: str, path: str) -> PackageFile | None:
    return session.get(PackageFile, (package_id, path))


def launch(session: Session, launch_id: str) -> LaunchSession | None:
    return session.get(LaunchSession, launch_id)


def launches_of(session: Session, package_id: str, user_id: str) -> list[LaunchSession]:
    return list(
        session.exec(
            select(LaunchSession)
            .where(LaunchSession.package_id == package_id, LaunchSession.user_id == user_id)
            .order_by(col(LaunchSession.created_at))
        )
    )
