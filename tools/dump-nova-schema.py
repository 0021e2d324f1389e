"""Print the MySQL DDL of the nova tables the tests create.

Run it with nova installed (``pip install nova==34.0.0 pymysql``)::

    python tools/dump-nova-schema.py main > tests/fixtures/schema/main.sql
    python tools/dump-nova-schema.py api > tests/fixtures/schema/api.sql

The DDL comes from nova's own SQLAlchemy models, so the test databases
have nova's real column layout, types and indexes.
"""
import sys
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateTable, CreateIndex
from nova.db.main import models as main
from nova.db.api import models as api

def dump(base, tables):
    out = []
    for name in tables:
        t = base.metadata.tables[name]
        ddl = str(CreateTable(t).compile(dialect=mysql.dialect())).strip()
        out.append(ddl + ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;')
        for ix in sorted(t.indexes, key=lambda i: i.name):
            out.append(str(CreateIndex(ix).compile(dialect=mysql.dialect())).strip() + ';')
    return '\n\n'.join(out) + '\n'

which = sys.argv[1]
if which == 'main':
    print(dump(main.BASE, ['compute_nodes', 'instances', 'pci_devices']))
else:
    print(dump(api.BASE, ['cell_mappings', 'flavors', 'flavor_extra_specs', 'flavor_projects']))
