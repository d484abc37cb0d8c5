#!/usr/bin/env python3
"""CDK entry point: `npx --prefix infra cdk synth -c stage=prod ...` (see docs/deploy.md)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parent
REPO_DIR = INFRA_DIR.parent
sys.path[1:1] = [str(REPO_DIR)]  # chalicelib.common.resources; sys.path[0] is infra/

import aws_cdk as cdk  # noqa: E402

from hadir_infra.config import DeployConfig  # noqa: E402
from hadir_infra.stack import HadirStack  # noqa: E402


def main() -> None:
    app = cdk.App()
    config = DeployConfig.from_context(app.node.try_get_context, repo_dir=REPO_DIR)
    # chalice.cdk writes its SAM template and a copy of the zip to ./chalice.out: keep that inside
    # the cloud assembly directory, so every synth starts clean and nothing piles up in infra/.
    outdir = app.outdir
    os.makedirs(outdir, exist_ok=True)
    os.chdir(outdir)
    env = None
    account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")
    if account and region:
        env = cdk.Environment(account=account, region=region)
    # chalice's packager builds a boto3 session (no call is made) and stops without a region
    os.environ.setdefault("AWS_DEFAULT_REGION",
                          region or os.environ.get("AWS_REGION") or "ap-southeast-3")
    HadirStack(app, config.stack_name, config=config, env=env,
               description=f"Hadir presence service ({config.stage}, agency {config.agency_id})")
    app.synth()


if __name__ == "__main__":
    main()
