"""catalogue search: level, indicator codes per course, full-text index (SQLite FTS5 / PostgreSQL GIN)

Revision ID: c4d2b3e5f6a7
Revises: b3c1a2d4e5f6
Create Date: 2026-11-25 03:10:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c4d2b3e5f6a7"
down_revision: str | None = "b3c1a2d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same expression as services/courses/repository.py uses, so PostgreSQL can use the index.
PG_VECTOR = "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(summary, ''))"


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level", sa.String(length=60), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_courses_level"), ["level"], unique=False)
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.alter_column("level", server_default=None)
    op.create_table(
        "course_indicators",
        sa.Column("course_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_indicators_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("course_id", "code", name=op.f("pk_course_indicators")),
    )
    with op.batch_alter_table("course_indicators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_indicators_code"), ["code"], unique=False)
    _backfill()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE courses_fts USING fts5(course_id UNINDEXED, title, summary, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        op.execute(
            "INSERT INTO courses_fts (course_id, title, summary) SELECT id, title, summary FROM courses"
        )
    else:
        op.execute(f"CREATE INDEX courses_fts_gin ON courses USING gin ({PG_VECTOR})")


def _backfill() -> None:
    """Level and indicator codes of the courses published before this revision."""
    bind = op.get_bind()
    versions = bind.execute(
        sa.text(
            "SELECT c.id, v.content FROM courses c JOIN course_versions v "
            "ON v.course_id = c.id AND v.version = c.latest_version"
        )
    ).all()
    for course_id, content in versions:
        content = json.loads(content) if isinstance(content, str) else content
        codes = sorted(
            {
                ".".join(code.split(".")[:n])
                for module in content.get("modules", [])
                for item in module.get("items", [])
                for code in item.get("indicators", [])
                + [c for q in item.get("questions", []) for c in q.get("indicators", [])]
                for n in range(1, code.count(".") + 2)
            }
        )  # with ancestors, as repository.with_ancestors
        bind.execute(
            sa.text("UPDATE courses SET level = :level WHERE id = :id"),
            {"level": content.get("level", ""), "id": course_id},
        )
        for code in codes:
            bind.execute(
                sa.text("INSERT INTO course_indicators (course_id, code) VALUES (:id, :code)"),
                {"id": course_id, "code": code},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE courses_fts")
    else:
        op.execute("DROP INDEX courses_fts_gin")
    op.drop_table("course_indicators")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_level"))
        batch_op.drop_column("level")
