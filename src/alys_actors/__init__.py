"""alys_actors: an asyncio actor runtime with supervision, bounded priority mailboxes and backpressure."""
