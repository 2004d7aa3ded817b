"""The reference node with bans that expire at once: it drops an offending peer but takes it
back on the next dial — a node that does not ban, for the black-box ban measurement."""

import sys

from alys_node.__main__ import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    main(argv if argv[:1] == ["init-spec"] else [*argv, "--ban-seconds", "0.01"])
