"""Click options that several scripts take alike."""

from __future__ import annotations

from pathlib import Path

import click

# Where the scripts read the deployment record of the connected chain (deploy writes it there).
deployments_dir_option = click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Deployment records (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/).",
)
