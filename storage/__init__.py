"""Herald's persistence: engine, tables, repositories returning domain types, migrations."""
