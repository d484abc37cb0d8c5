"""The Chalice construct, fed the zip built by scripts/package.sh instead of building its own.

`chalice.cdk.Chalice` runs `chalice package`, which pip-installs requirements.txt untrimmed (over
Lambda's 250 MB limit with onnxruntime + numpy) and, with the wrong Python, silently leaves
dependencies out. Here chalice still generates the SAM template (routes, API Gateway, SQS event
sources, function wiring), but the code asset is the trimmed, tested zip.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from chalice.cdk import Chalice
from chalice.cli.factory import CLIFactory
from chalice.deploy.deployer import DeploymentPackager, ManagedLayerDeploymentPackager


LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


class _PrebuiltZip:
    """Stands in for chalice's LambdaDeploymentPackager: returns the prebuilt zip."""

    def __init__(self, path: Path):
        self._path = path

    def create_deployment_package(self, project_dir: str, python_version: str) -> str:
        if python_version != "python3.12":
            raise RuntimeError(f"synthesize with Python 3.12 (chalice picked {python_version})")
        return str(self._path)


class PrebuiltChalice(Chalice):
    """`chalice.cdk.Chalice` whose deployment package is an existing zip."""

    _pending_zip: Path | None = None

    def __init__(self, scope, id: str, *, source_dir: str, lambda_zip: Path,
                 stage_config: dict[str, Any]):
        if not lambda_zip.is_file():
            raise FileNotFoundError(
                f"{lambda_zip} not found: run `bash scripts/package.sh` first "
                "(or pass -c lambda_zip=PATH)")
        with zipfile.ZipFile(lambda_zip) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
        if unzipped > LAMBDA_UNZIPPED_LIMIT:
            raise ValueError(f"{lambda_zip}: {unzipped / 2**20:.1f} MB unzipped, over Lambda's 250 MB")
        PrebuiltChalice._pending_zip = lambda_zip  # read by _package_app during super().__init__
        config = dict(stage_config, automatic_layer=False)
        super().__init__(scope, id, source_dir=source_dir, stage_config=config)

    def _package_app(self) -> None:
        factory = CLIFactory(self.source_dir, environ=os.environ)
        config = factory.create_config_obj(self.stage_name, user_provided_params=self.stage_config)
        packager = factory.create_app_packager(config, factory.create_package_options(),
                                               package_format="cloudformation",
                                               template_format="json")
        steps = packager._resource_builder._build_stage._steps  # chalice has no public hook
        replaced = False
        for step in steps:
            if isinstance(step, ManagedLayerDeploymentPackager):
                raise RuntimeError("automatic_layer must be off: the zip already holds everything")
            if isinstance(step, DeploymentPackager):
                step._packager = _PrebuiltZip(PrebuiltChalice._pending_zip)
                replaced = True
        if not replaced:
            raise RuntimeError("chalice build stage changed: DeploymentPackager not found")
        packager.package_app(config, self._sam_package_dir, self.stage_name)

    def sam_resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource of the SAM template chalice generated."""
        with open(os.path.join(self._sam_package_dir, "sam.json")) as f:
            template = json.load(f)
        return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}

    def functions(self) -> dict[str, dict[str, Any]]:
        return self.sam_resources("AWS::Serverless::Function")
