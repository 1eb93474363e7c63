"""Each role's home page and navigation block (templates/nav/<role>.html), in the order a person with
several roles sees them: login lands on the first home they have."""

from __future__ import annotations

from libs.auth import Principal

HOMES = (
    ("platform_admin", "/admin"),
    ("coordinator", "/coordinator"),
    ("institute_admin", "/institute"),
    ("analyst", "/dashboard"),
    ("author", "/author"),
    ("teacher", "/me"),
)


def home_of(user: Principal | None) -> str:
    if user is None:
        return "/courses"
    return next((path for role, path in HOMES if user.has(role)), "/courses")


def nav_roles(user: Principal) -> list[str]:
    return [role for role, _ in HOMES if user.has(role)]
