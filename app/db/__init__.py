"""The service's database: SQLAlchemy 2 models on one declarative base, SQLite by default."""
