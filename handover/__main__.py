"""``python -m handover`` is the same as the ``handover`` command."""

from handover.cli import main

main()
