"""flows: names unique per company as people read them (name_key)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24

The service refused a second flow named like another (ignoring case and spacing), but nothing in
the database did, so two admins creating the same name at once could both succeed. `name_key` is
the name as compared (spaces collapsed, casefolded; `app.models.flow.flow_name_key`) under a unique
constraint. Flows that already share a name keep the oldest one as it is; the later ones get
" (2)", " (3)"... so the constraint can be added and nothing is lost.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

flows = sa.table('flows', sa.column('id', sa.String), sa.column('company_id', sa.String),
                 sa.column('name', sa.String), sa.column('name_key', sa.String),
                 sa.column('created_at', sa.DateTime))


def name_key(name):
    # As app.models.flow.flow_name_key at the time of writing: a migration keeps its own copy.
    return " ".join(name.split()).casefold()


def numbered(name, number):
    suffix = f" ({number})"
    return name[:200 - len(suffix)] + suffix  # names are at most 200 characters


def upgrade():
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=800), nullable=True))

    conn = op.get_bind()
    rows = conn.execute(sa.select(flows.c.id, flows.c.company_id, flows.c.name)
                        .order_by(flows.c.company_id, flows.c.created_at, flows.c.id)).all()
    taken = {(company, name_key(name)) for _, company, name in rows}
    seen = set()
    for flow_id, company, name in rows:
        key = name_key(name)
        if (company, key) in seen:  # a later flow of the same name: number it until it is free
            number = 2
            while (company, name_key(numbered(name, number))) in taken:
                number += 1
            name = numbered(name, number)
            key = name_key(name)
            taken.add((company, key))
        seen.add((company, key))
        conn.execute(flows.update().where(flows.c.id == flow_id).values(name=name, name_key=key))

    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=800), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_flows_company_id_name_key'), ['company_id', 'name_key'])


def downgrade():
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_flows_company_id_name_key'), type_='unique')
        batch_op.drop_column('name_key')
