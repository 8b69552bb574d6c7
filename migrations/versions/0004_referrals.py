"""referrals: patients, consent, screenings, needs, referrals, events, notes, outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:20:00

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

STATUSES = "'requested', 'accepted', 'rejected', 'in-progress', 'on-hold', 'completed', 'failed', 'cancelled'"

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION referral_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'referral_event is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _big_id():
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_geospatial_table('patient',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.String(length=64), nullable=False),
    sa.Column('given_name', sa.String(length=128), nullable=False),
    sa.Column('family_name', sa.String(length=128), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('address_1', sa.String(length=255), nullable=True),
    sa.Column('city', sa.String(length=128), nullable=True),
    sa.Column('state_province', sa.String(length=64), nullable=True),
    sa.Column('postal_code', sa.String(length=16), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('preferred_language', sa.String(length=8), nullable=True),
    sa.Column('created_by_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_patient_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index('ix_patient_identity', ['organization_id', 'family_name', 'given_name', 'birth_date'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.String(length=64), nullable=True),
    sa.Column('revocation_note', sa.Text(), nullable=True),
    sa.CheckConstraint("method IN ('verbal', 'written', 'electronic')", name='ck_consent_method'),
    sa.CheckConstraint("scope IN ('share-with-cbo')", name='ck_consent_scope'),
    sa.CheckConstraint('expires_at IS NULL OR expires_at > starts_at', name='ck_consent_period'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_consent_patient_id', 'consent', ['patient_id'])

    op.create_table('screening',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('positive_domains', sa.JSON(), nullable=False),
    sa.Column('screened_by_id', sa.String(length=64), nullable=True),
    sa.Column('screened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screened_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_screening_patient_id', 'screening', ['patient_id'])

    op.create_table('need',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('screening_id', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'addressed', 'unmet')", name='ck_need_status'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screening_id'], ['screening.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_need_patient_status', 'need', ['patient_id', 'status'])

    op.create_table('referral',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('need_id', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('sender_organization_id', sa.String(length=64), nullable=False),
    sa.Column('coordinator_id', sa.String(length=64), nullable=True),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('service_name', sa.String(length=255), nullable=False),
    sa.Column('recipient_organization_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('business_status', sa.String(length=32), nullable=True),
    sa.Column('status_reason', sa.String(length=32), nullable=True),
    sa.Column('held_from', sa.String(length=16), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('capacity_at_send', sa.String(length=40), nullable=True),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"status IN ({STATUSES})", name='ck_referral_status'),
    sa.CheckConstraint("held_from IS NULL OR held_from IN ('accepted', 'in-progress')", name='ck_referral_held_from'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coordinator_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_referral_idempotency', 'referral', ['sender_organization_id', 'idempotency_key'], unique=True)
    op.create_index('ix_referral_recipient_status', 'referral', ['recipient_organization_id', 'status'])
    op.create_index('ix_referral_sender_status', 'referral', ['sender_organization_id', 'status'])
    op.create_index('ix_referral_patient', 'referral', ['patient_id'])

    op.create_table('referral_event',
    sa.Column('id', _big_id(), autoincrement=True, nullable=False),
    sa.Column('referral_id', sa.String(length=64), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_email', sa.String(length=255), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_referral_event_referral', 'referral_event', ['referral_id', 'id'])

    op.create_table('referral_note',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('referral_id', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.String(length=64), nullable=True),
    sa.Column('author_label', sa.String(length=255), nullable=False),
    sa.Column('organization_id', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_referral_note_referral', 'referral_note', ['referral_id', 'created_at'])

    op.create_table('outbox_message',
    sa.Column('id', _big_id(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('referral_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent')", name='ck_outbox_status'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_due', 'outbox_message', ['status', 'next_attempt_at'])

    # The referral history is append-only at the database level, like the audit log.
    if op.get_bind().dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER referral_event_no_{operation.lower()} BEFORE {operation} "
                f"ON referral_event BEGIN SELECT RAISE(ABORT, "
                f"'referral_event is append-only: {operation} refused'); END"
            )
    else:
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER referral_event_append_only BEFORE UPDATE OR DELETE ON referral_event "
            "FOR EACH ROW EXECUTE FUNCTION referral_event_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS referral_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS referral_event_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS referral_event_append_only ON referral_event")
        op.execute("DROP FUNCTION IF EXISTS referral_event_append_only()")
    op.drop_table('outbox_message')
    op.drop_table('referral_note')
    op.drop_table('referral_event')
    op.drop_table('referral')
    op.drop_table('need')
    op.drop_table('screening')
    op.drop_table('consent')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_identity')
        batch_op.drop_geospatial_index('idx_patient_geom', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('patient')
