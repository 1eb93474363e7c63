"""CASE fidelity: associations kept, packages verbatim, item types, dates

Every association is a row now (framework_associations), so a package keeps its identifiers, types
and dates; an imported package's CFDocument/CFItems/CFAssociations are kept verbatim (JSON columns);
items keep their CFItemType as free text; titles and codes lose their short length caps (CASE has
none). Frameworks made here before this revision get their tree and derivation links as rows, with
the identifiers their exports had (UUIDv5 of type and item), and the dates those exports showed.

Revision ID: d0a889889c51
Revises: a7d09592db53
Create Date: 2026-12-01 13:02:28.511084
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "d0a889889c51"
down_revision: str | None = "a7d09592db53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EPOCH = "2026-01-01T00:00:00+00:00"  # the lastChangeDateTime every export showed before this revision
ITEM_TYPES = {"aspect": "Aspect", "competency": "Competency", "indicator": "Indicator"}


def upgrade() -> None:
    op.create_table(
        "framework_associations",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("framework_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("association_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("origin_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("destination_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        sa.Column("package_order", sa.Integer(), nullable=False),
        sa.Column("last_change", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("case_association", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_framework_associations_framework_id_frameworks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_framework_associations")),
    )
    with op.batch_alter_table("framework_associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_framework_associations_destination_id"), ["destination_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_framework_associations_framework_id"), ["framework_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_framework_associations_origin_id"), ["origin_id"], unique=False)

    with op.batch_alter_table("course_indicators", schema=None) as batch_op:
        batch_op.alter_column(
            "code",
            existing_type=sa.VARCHAR(length=40),
            type_=sqlmodel.sql.sqltypes.AutoString(length=120),
            existing_nullable=False,
        )

    with op.batch_alter_table("framework_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("item_type", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "last_change",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default=EPOCH,
            )
        )
        batch_op.add_column(sa.Column("package_order", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("case_item", sa.JSON(), nullable=True))
        batch_op.alter_column(
            "code",
            existing_type=sa.VARCHAR(length=40),
            type_=sqlmodel.sql.sqltypes.AutoString(length=120),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "title",
            existing_type=sa.VARCHAR(length=500),
            type_=sqlmodel.sql.sqltypes.AutoString(),
            existing_nullable=False,
        )

    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_change",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default=EPOCH,
            )
        )
        batch_op.add_column(sa.Column("case_package", sa.JSON(), nullable=True))
        batch_op.alter_column(
            "title",
            existing_type=sa.VARCHAR(length=300),
            type_=sqlmodel.sql.sqltypes.AutoString(),
            existing_nullable=False,
        )
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.alter_column("last_change", server_default=None)
    with op.batch_alter_table("framework_items", schema=None) as batch_op:
        batch_op.alter_column("last_change", server_default=None)
    _backfill()


def _assoc_id(item_id: str, kind: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ustaz:{kind}:{item_id}"))


def _backfill() -> None:
    """Frameworks made here before: item types from their kinds, and the associations their exports
    had, as rows (derivation as exactMatchOf, or isRelatedTo where the statement was edited)."""
    bind = op.get_bind()
    for kind, item_type in ITEM_TYPES.items():
        bind.execute(
            sa.text("UPDATE framework_items SET item_type = :t WHERE kind = :k"), {"t": item_type, "k": kind}
        )
    rows = bind.execute(
        sa.text(
            "SELECT id, framework_id, parent_id, title, derived_from_id FROM framework_items "
            "ORDER BY framework_id, position"
        )
    ).all()
    titles = {r.id: r.title for r in rows}
    table = sa.table(
        "framework_associations",
        sa.column("id"),
        sa.column("framework_id"),
        sa.column("association_type"),
        sa.column("origin_id"),
        sa.column("destination_id"),
        sa.column("sequence_number"),
        sa.column("package_order"),
        sa.column("last_change"),
    )
    out: list[dict[str, object]] = []
    siblings: dict[tuple[str, str | None], int] = {}
    for r in rows:
        key = (r.framework_id, r.parent_id)
        siblings[key] = siblings.get(key, 0) + 1
        out.append(
            {
                "id": _assoc_id(r.id, "isChildOf"),
                "framework_id": r.framework_id,
                "association_type": "isChildOf",
                "origin_id": r.id,
                "destination_id": r.parent_id or r.framework_id,
                "sequence_number": siblings[key],
                "package_order": len(out),
                "last_change": EPOCH,
            }
        )
        if r.derived_from_id:
            same = titles.get(r.derived_from_id) == r.title
            kind = "exactMatchOf" if same else "isRelatedTo"
            out.append(
                {
                    "id": _assoc_id(r.id, kind),
                    "framework_id": r.framework_id,
                    "association_type": kind,
                    "origin_id": r.id,
                    "destination_id": r.derived_from_id,
                    "sequence_number": None,
                    "package_order": len(out),
                    "last_change": EPOCH,
                }
            )
    if out:
        op.bulk_insert(table, out)


def downgrade() -> None:
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.alter_column(
            "title", existing_type=sqlmodel.sql.sqltypes.AutoString(), type_=sa.VARCHAR(length=300)
        )
        batch_op.drop_column("case_package")
        batch_op.drop_column("last_change")
    with op.batch_alter_table("framework_items", schema=None) as batch_op:
        batch_op.alter_column(
            "title", existing_type=sqlmodel.sql.sqltypes.AutoString(), type_=sa.VARCHAR(length=500)
        )
        batch_op.alter_column(
            "code", existing_type=sqlmodel.sql.sqltypes.AutoString(length=120), type_=sa.VARCHAR(length=40)
        )
        batch_op.drop_column("case_item")
        batch_op.drop_column("package_order")
        batch_op.drop_column("last_change")
        batch_op.drop_column("item_type")
    with op.batch_alter_table("course_indicators", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sqlmodel.sql.sqltypes.AutoString(length=120), type_=sa.VARCHAR(length=40)
        )
    op.drop_table("framework_associations")
