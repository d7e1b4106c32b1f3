"""region: a season's origin counties, companies' and hubs' origin county, operators'
registration place (many-origin seasons through the service; the charter-sign rule)

Revision ID: 0008_region
Revises: 0007_jobs
Create Date: 2026-12-07 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_region"
down_revision: str | None = "0007_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seasons") as batch:
        batch.add_column(sa.Column("region", sa.JSON(), nullable=False, server_default="[]"))
    for table in ("companies", "hubs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("county", sa.String(length=6), nullable=False, server_default="")
            )
    with op.batch_alter_table("vehicle_types") as batch:
        batch.add_column(
            sa.Column("registered", sa.String(length=128), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicle_types") as batch:
        batch.drop_column("registered")
    for table in ("hubs", "companies"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("county")
    with op.batch_alter_table("seasons") as batch:
        batch.drop_column("region")
