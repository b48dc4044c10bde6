"""``python -m fix2go``: the same as the ``fix2go`` console script."""

from fix2go.cli import main

main()
