"""submission attempts numbered per quiz (ADR 0022): a column and a unique constraint per attempt

Revision ID: 9de4840cd3c1
Revises: 415e0fc09cc4
Create Date: 2026-12-01 14:54:04.545888
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "9de4840cd3c1"
down_revision: str | None = "415e0fc09cc4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_submissions_attempt", ["enrolment_id", "quiz_id", "attempt"])


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_submissions_attempt", type_="unique")
        batch_op.drop_column("attempt")
