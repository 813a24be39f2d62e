"""deliveries: what each learner took of each lesson (opened, file sent, video watched)

Revision ID: 0009_deliveries
Revises: 0008_sessions
Create Date: 2026-12-07 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_deliveries'
down_revision = '0008_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lesson_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_delivery_lesson_id_lesson'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lesson_delivery_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_delivery')),
    sa.UniqueConstraint('user_id', 'lesson_id', 'kind', name=op.f('uq_lesson_delivery_user_id'))
    )
    with op.batch_alter_table('lesson_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_delivery_lesson_id'), ['lesson_id'], unique=False)


def downgrade():
    with op.batch_alter_table('lesson_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_delivery_lesson_id'))

    op.drop_table('lesson_delivery')
