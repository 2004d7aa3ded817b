"""Block synchronisation: sans-I/O range scheduler + the asyncio driver in actors/sync.py."""
