"""Alembic migrations, and the step after them that grants the services' role."""
