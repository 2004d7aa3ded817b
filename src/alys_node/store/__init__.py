"""Durable block storage (SQLite in WAL mode)."""
