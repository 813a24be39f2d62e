"""oauth: the OAuth 2.0 authorization server's clients, codes and tokens (issue 16)

Codes and tokens are stored only as sha256 hashes. Chained after 0009 on its branch; at merge
it follows 0010_api_tokens (only `down_revision` changes).

Revision ID: 0011_oauth
Revises: 0010_api_tokens
Create Date: 2026-12-07 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_oauth'
down_revision = '0010_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=48), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('redirect_uris', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('is_first_party', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_oauth_client_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_client_client_id'))
    )
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_client_owner_id'), ['owner_id'], unique=False)

    op.create_table('oauth_authorization_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.id'], name=op.f('fk_oauth_authorization_code_client_id_oauth_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_authorization_code_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_authorization_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_authorization_code_code_hash'))
    )
    with op.batch_alter_table('oauth_authorization_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_authorization_code_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_authorization_code_user_id'), ['user_id'], unique=False)

    op.create_table('oauth_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_in', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.id'], name=op.f('fk_oauth_token_client_id_oauth_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['code_id'], ['oauth_authorization_code.id'], name=op.f('fk_oauth_token_code_id_oauth_authorization_code'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_token_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_token')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_oauth_token_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_oauth_token_refresh_token_hash'))
    )
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_token_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_token_code_id'), ['code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_token_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_token_code_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_token_client_id'))

    op.drop_table('oauth_token')
    with op.batch_alter_table('oauth_authorization_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_code_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_code_client_id'))

    op.drop_table('oauth_authorization_code')
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_client_owner_id'))

    op.drop_table('oauth_client')
