"""Peer-to-peer layer: sans-I/O wire protocol + asyncio transport."""
