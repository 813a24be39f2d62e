"""analytics: daily rollup tables for the creator and admin dashboards (issue 17)

Also: where a buyer came from on each order, the furthest point a learner watched of a video,
and an index for "learners active in the last N days" per course.

Revision ID: 0012_analytics
Revises: 0011_oauth
Create Date: 2026-12-08 01:03:56.619672

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_analytics'
down_revision = '0011_oauth'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_duration_day',
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('metric', 'scope_id', 'day', 'hours', name=op.f('pk_analytics_duration_day'))
    )
    op.create_table('analytics_platform_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('new_learners', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('new_creators', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('submissions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('approvals', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rejections', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reports_opened', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reports_resolved', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('disputes_opened', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('disputes_lost', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('payouts_sent', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_analytics_platform_day'))
    )
    op.create_table('analytics_course_day',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('page_views', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('checkouts', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sales', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('gross', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('commission', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('refunds', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('refunded_commission', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('creator_net', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('refund_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('enrollments', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('completions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reviews', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rating_sum', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('questions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('first_answers', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_analytics_course_day_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('fk_analytics_course_day_creator_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'day', name=op.f('pk_analytics_course_day'))
    )
    with op.batch_alter_table('analytics_course_day', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_course_day_creator_day', ['creator_id', 'day'], unique=False)
        batch_op.create_index('ix_analytics_course_day_day', ['day'], unique=False)

    op.create_table('analytics_source_day',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('page_views', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('checkouts', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sales', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_analytics_source_day_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('fk_analytics_source_day_creator_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'day', 'source', name=op.f('pk_analytics_source_day'))
    )
    with op.batch_alter_table('analytics_source_day', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_source_day_creator_day', ['creator_id', 'day'], unique=False)

    op.create_table('analytics_lesson_reach',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('reached', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('completed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('watched_permille_sum', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('watched_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_analytics_lesson_reach_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_analytics_lesson_reach_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lesson_id', name=op.f('pk_analytics_lesson_reach'))
    )
    with op.batch_alter_table('analytics_lesson_reach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_lesson_reach_course_id'), ['course_id'], unique=False)

    op.create_table('analytics_quiz_stats',
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('passed', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_analytics_quiz_stats_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_analytics_quiz_stats_quiz_id_quiz'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('quiz_id', name=op.f('pk_analytics_quiz_stats'))
    )
    with op.batch_alter_table('analytics_quiz_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_quiz_stats_course_id'), ['course_id'], unique=False)

    op.create_table('analytics_question_stats',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('answered', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('correct', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_analytics_question_stats_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_question.id'], name=op.f('fk_analytics_question_stats_question_id_quiz_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_analytics_question_stats_quiz_id_quiz'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_analytics_question_stats'))
    )
    with op.batch_alter_table('analytics_question_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_question_stats_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_question_stats_quiz_id'), ['quiz_id'], unique=False)

    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_course_activity', ['course_id', 'last_activity_at'], unique=False)

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watched_seconds', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traffic_source', sa.String(length=100), nullable=True))

    # The admin's platform figures (issue 17, part 2): when a decided course was submitted, and
    # the indexes of two current-state counts (open reports) and payouts sent in a period.
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_status', ['status'], unique=False)

    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.create_index('ix_payout_settled_at', ['settled_at'], unique=False)



def downgrade():
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.drop_index('ix_payout_settled_at')

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_status')

    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_column('submitted_at')

    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_column('traffic_source')

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_column('watched_seconds')

    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_course_activity')

    with op.batch_alter_table('analytics_question_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_question_stats_quiz_id'))
        batch_op.drop_index(batch_op.f('ix_analytics_question_stats_course_id'))

    op.drop_table('analytics_question_stats')
    with op.batch_alter_table('analytics_quiz_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_quiz_stats_course_id'))

    op.drop_table('analytics_quiz_stats')
    with op.batch_alter_table('analytics_lesson_reach', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_lesson_reach_course_id'))

    op.drop_table('analytics_lesson_reach')
    with op.batch_alter_table('analytics_source_day', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_source_day_creator_day')

    op.drop_table('analytics_source_day')
    with op.batch_alter_table('analytics_course_day', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_course_day_day')
        batch_op.drop_index('ix_analytics_course_day_creator_day')

    op.drop_table('analytics_course_day')
    op.drop_table('analytics_platform_day')
    op.drop_table('analytics_duration_day')
