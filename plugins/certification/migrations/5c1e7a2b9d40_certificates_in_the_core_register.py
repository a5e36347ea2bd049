"""certificates in the core register

The code, revocation and public check of each certificate moved to the core's
``certificates`` table; existing certificates are copied there (keeping their codes, so
QR codes already printed still check), then the moved columns are dropped.

Revision ID: 5c1e7a2b9d40
Revises: 12618b7cae33
Create Date: 2026-11-24 18:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '5c1e7a2b9d40'
down_revision: str | Sequence[str] | None = '12618b7cae33'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ('certificates',)

OWNER = "certification"


def upgrade() -> None:
    # Rows already copied are skipped, so a run cut short can simply be run again.
    op.execute(sa.text(
        "INSERT INTO certificates (code, number, kind, holder_name, title, subtitle, issuer,"
        " issued_at, issued_by, valid_until, revoked_at, revoked_by, revoke_reason, owner,"
        " object_id)"
        " SELECT c.verify_code, c.number, 'certification', c.holder_name, c.field_name,"
        " CASE WHEN c.vendor_name <> '' THEN c.programme_title || ' · ' || c.vendor_name"
        " ELSE c.programme_title END, 'BPTI', c.issued_at, c.issued_by, c.valid_until,"
        " c.revoked_at, c.revoked_by, c.revoke_reason, :owner, c.id"
        " FROM cert_certificates c WHERE NOT EXISTS (SELECT 1 FROM certificates x"
        " WHERE x.owner = :owner AND x.object_id = c.id)").bindparams(owner=OWNER))
    with op.batch_alter_table('cert_certificates', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cert_certificates_verify_code', type_='unique')
        batch_op.drop_column('verify_code')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('revoked_by')
        batch_op.drop_column('revoke_reason')


def downgrade() -> None:
    with op.batch_alter_table('cert_certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verify_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', core.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('revoked_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sa.Text(), nullable=False,
                                      server_default=''))
    for column in ('verify_code', 'revoked_at', 'revoked_by', 'revoke_reason'):
        op.execute(sa.text(
            f"UPDATE cert_certificates SET {column} = (SELECT x.{column.replace('verify_', '')}"
            " FROM certificates x WHERE x.owner = :owner AND x.object_id = cert_certificates.id)"
            " WHERE EXISTS (SELECT 1 FROM certificates x WHERE x.owner = :owner"
            " AND x.object_id = cert_certificates.id)").bindparams(owner=OWNER))
    op.execute(sa.text("DELETE FROM certificates WHERE owner = :owner").bindparams(owner=OWNER))
    with op.batch_alter_table('cert_certificates', schema=None) as batch_op:
        batch_op.alter_column('verify_code', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('revoke_reason', existing_type=sa.Text(), server_default=None)
        batch_op.create_unique_constraint('uq_cert_certificates_verify_code', ['verify_code'])
