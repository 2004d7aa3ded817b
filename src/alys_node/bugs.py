"""Names of the deliberately broken behaviours selectable with the hidden --seeded-bug flag.

Kept in a tiny module so the CLI (and the verification workers that re-import it) stay light.
"""

SEEDED_BUGS = (
    "accept-bad-signatures",  # accepts unsigned / mis-signed blocks
    "no-range-reassign",  # never re-requests a stalled range from another peer
    "no-durability",  # acknowledges blocks before they are durable (never commits)
    "ignore-max-peers",  # accepts peers beyond --max-peers
    "no-gossip",  # never forwards a received NewBlock
    "hedged-ranges",  # asks every new range of a second peer too (double fetch, no failure)
    "single-source-sync",  # downloads every range from one peer however many it has
    "shared-serve-slot",  # serves range requests through one slot shared by all connections
    "exact-successor-commit",  # imports a range only if it starts exactly at head + 1
)
