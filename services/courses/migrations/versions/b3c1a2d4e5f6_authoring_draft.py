"""authoring: draft working copy, review comment, author

Revision ID: b3c1a2d4e5f6
Revises: 9ca9c772d433
Create Date: 2026-11-25 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "b3c1a2d4e5f6"
down_revision: str | None = "9ca9c772d433"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("review_comment", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("author_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("author_id")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("draft")
