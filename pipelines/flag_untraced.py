"""Flag untraced and conflicting items across deals, for cron or an orchestrator.

    python -m pipelines.flag_untraced --all --format json -o /var/reports/flag.json

The same options and exit status as `handover flag` (0 nothing flagged, 1 items
flagged, 2 an error). The data directory comes from ``--home`` or $HANDOVER_HOME.
Templates are found through the package, so any working directory will do.
"""

from __future__ import annotations

import sys

from handover.cli import main as handover_main


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    # --home belongs to the top-level command, before the subcommand.
    home: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--home" and i + 1 < len(args):
            home = args[i : i + 2]
            del args[i : i + 2]
            break
        if arg.startswith("--home="):
            home = [arg]
            del args[i]
            break
    handover_main([*home, "flag", *args])


if __name__ == "__main__":
    main()
