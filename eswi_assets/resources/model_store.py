"""The `model_store` IO manager: Dagster's face of the plain model stores in `eswi_assets.stores`.

The resource holds the config (shown in the UI, secrets as `dg.EnvVar`); the IO manager it
creates *is* a plain store with Dagster's two IO methods mixed in, so an asset that asks for the
`model_store` resource gets the same `ModelStore` the serving app uses (checkpoint directories,
`load_latest`), and saving an output is `ModelStore.save`.
"""

from __future__ import annotations

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from eswi_assets.stores.models import (
    LocalModelStore,
    ModelArtifact,
    ModelStore,
    S3ModelStore,
    StoredModel,
    default_cache_dir,
)


class ModelStoreIO(dg.IOManager, ModelStore):
    """Saves each model output as the run's version (promoting it if it may) and loads an
    upstream model as its promoted version; a backend below supplies the storage."""

    def handle_output(self, context: dg.OutputContext, obj: ModelArtifact) -> None:
        uri = self.save(context.asset_key.to_user_string(), context.run_id, obj)
        context.add_output_metadata(
            {
                "path": dg.MetadataValue.path(uri),
                "model_version": dg.MetadataValue.text(context.run_id),
                "promoted_to_latest": dg.MetadataValue.bool(obj.promote),
            }
        )

    def load_input(self, context: dg.InputContext) -> StoredModel:
        return self.load_latest(context.upstream_output.asset_key.to_user_string())


class LocalModelStoreIO(ModelStoreIO, LocalModelStore):
    """A `LocalModelStore` that is also the `model_store` IO manager."""


class S3ModelStoreIO(ModelStoreIO, S3ModelStore):
    """An `S3ModelStore` that is also the `model_store` IO manager."""


class LocalModelStoreResource(dg.ConfigurableIOManagerFactory):
    """Model versions under a local directory (the local profile)."""

    base_dir: str = Field(description="Root of the store, e.g. .eswi/models")

    def create_io_manager(self, context: dg.InitResourceContext) -> LocalModelStoreIO:
        return LocalModelStoreIO(self.base_dir)


class S3ModelStoreResource(dg.ConfigurableIOManagerFactory):
    """Model versions in an S3 bucket, through dagster-aws's S3 client (the production profile)."""

    s3: S3Resource
    bucket: str
    prefix: str = "models"
    cache_dir: str = Field(
        default_factory=default_cache_dir,
        description="Local copies of versions and the working checkpoints of running steps.",
    )

    def create_io_manager(self, context: dg.InitResourceContext) -> S3ModelStoreIO:
        return S3ModelStoreIO(
            self.s3.get_client(), self.bucket, self.prefix, self.cache_dir, self.s3.endpoint_url
        )
