"""Subcommands of ``swapcam`` owned by the stream package: argument definitions and thin ``run`` glue."""
