"""The database: typed models, engine and sessions, migrations."""
