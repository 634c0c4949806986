"""``python -m hotline`` runs the CLI."""

from hotline.cli.main import main

main()
