"""casework: routing table, tasks and their history, feedback, assistance records, notifications

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    op.create_index('ix_routing_rules_need', 'routing_rules', ['need', 'valid_from'], unique=False)

    op.create_table('tasks',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('warning_id', BIG_ID, nullable=False),
    sa.Column('task_type', sa.String(length=16), nullable=False),
    sa.Column('need', sa.String(length=32), nullable=True),
    sa.Column('department', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queue_role', sa.String(length=32), nullable=False),
    sa.Column('queue_region', sa.String(length=14), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=14), nullable=False),
    sa.Column('grid_code', sa.String(length=14), nullable=True),
    sa.Column('deadline_at', TS, nullable=False),
    sa.Column('deadline_provisional', sa.Boolean(), nullable=False),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('routing_rule_id', sa.Integer(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('assigned_at', TS, nullable=True),
    sa.Column('pushed_at', TS, nullable=True),
    sa.Column('accepted_at', TS, nullable=True),
    sa.Column('verifying_at', TS, nullable=True),
    sa.Column('feedback_at', TS, nullable=True),
    sa.Column('closed_at', TS, nullable=True),
    sa.Column('returned_at', TS, nullable=True),
    sa.Column('escalated_at', TS, nullable=True),
    sa.Column('first_action_at', TS, nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_tasks_household_id_households')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_tasks_person_id_persons')),
    sa.ForeignKeyConstraint(['routing_rule_id'], ['routing_rules.id'],
                            name=op.f('fk_tasks_routing_rule_id_routing_rules')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_tasks_warning_id_warnings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('warning_id', 'task_type', 'department', name='uq_tasks_warning_type_department')
    )
    op.create_index('ix_tasks_region_status', 'tasks', ['region_code', 'status'], unique=False)
    op.create_index('ix_tasks_queue', 'tasks', ['queue_role', 'queue_region', 'status'], unique=False)
    op.create_index('ix_tasks_household', 'tasks', ['household_id'], unique=False)
    op.create_index('ix_tasks_deadline', 'tasks', ['status', 'deadline_at'], unique=False)

    op.create_table('task_events',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('task_id', BIG_ID, nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('at', TS, nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    op.create_index('ix_task_events_task', 'task_events', ['task_id', 'id'], unique=False)

    op.create_table('assistance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('task_id', BIG_ID, nullable=True),
    sa.Column('warning_id', BIG_ID, nullable=True),
    sa.Column('region_code', sa.String(length=14), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                            name=op.f('fk_assistance_records_household_id_households')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_assistance_records_person_id_persons')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_assistance_records_task_id_tasks')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'],
                            name=op.f('fk_assistance_records_warning_id_warnings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_records')),
    sa.UniqueConstraint('task_id', name='uq_assistance_task'),
    sa.UniqueConstraint('household_id', 'source', 'kind', 'given_on', 'amount_fen', name='uq_assistance_once')
    )
    op.create_index('ix_assistance_household', 'assistance_records', ['household_id', 'given_on'], unique=False)

    op.create_table('task_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', BIG_ID, nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('assistance_id', sa.Integer(), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_type', sa.String(length=64), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.Column('attachment_sha256', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.ForeignKeyConstraint(['assistance_id'], ['assistance_records.id'],
                            name=op.f('fk_task_feedback_assistance_id_assistance_records')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_feedback_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_feedback'))
    )
    op.create_index('ix_task_feedback_task', 'task_feedback', ['task_id', 'id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('task_id', BIG_ID, nullable=True),
    sa.Column('title_zh', sa.Text(), nullable=False),
    sa.Column('title_en', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('read_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_notifications_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index('ix_notifications_user', 'notifications', ['username', 'read_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notifications_user', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_task_feedback_task', table_name='task_feedback')
    op.drop_table('task_feedback')
    op.drop_index('ix_assistance_household', table_name='assistance_records')
    op.drop_table('assistance_records')
    op.drop_index('ix_task_events_task', table_name='task_events')
    op.drop_table('task_events')
    op.drop_index('ix_tasks_deadline', table_name='tasks')
    op.drop_index('ix_tasks_household', table_name='tasks')
    op.drop_index('ix_tasks_queue', table_name='tasks')
    op.drop_index('ix_tasks_region_status', table_name='tasks')
    op.drop_table('tasks')
    op.drop_index('ix_routing_rules_need', table_name='routing_rules')
    op.drop_table('routing_rules')
