"""The journal of runs and documents issued (SQLite by default, any SQLAlchemy URL)."""
