"""courses: adapted_from (an adaptation of another institute's course, not a translation)

Revision ID: d5e3f4a6b7c8
Revises: d0a889889c51
Create Date: 2026-12-01 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "d5e3f4a6b7c8"
down_revision: str | None = "d0a889889c51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("adapted_from", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_courses_adapted_from_courses"), "courses", ["adapted_from"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_courses_adapted_from_courses"), type_="foreignkey")
        batch_op.drop_column("adapted_from")
