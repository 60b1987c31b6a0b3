"""Ordered migrations: ``mNNNN_name.py`` modules with ``up(db)``; applied once, recorded.

Rules: a released migration never changes. A new table gets a new migration calling
``db.create_tables``; a new column on an existing table gets a new migration calling
``homeserver.db.add_column_if_missing`` (earlier migrations create tables from the current
models, so on a fresh database the column is already there).
"""
