"""The model store: every model version and a "latest" pointer per asset, on local disk or S3.

Plain code (no Dagster): the `model_store` IO manager (`eswi_assets.resources.model_store`) and
the serving app both use these classes.

Layout, the same on local disk and on S3 (`<base>` is a directory or `s3://bucket/prefix`):

    <base>/<asset>/<run_id>/               save_pretrained output: safetensors, config, tokenizer,
                                           README.md (model card), eswi.json (metrics, time)
    <base>/<asset>/<run_id>/checkpoints/   trainer checkpoints while the step runs
    <base>/<asset>/LATEST                  {"version": ..., "uri": ...}, written last

`LATEST` moves only after a version is completely saved, and only when the asset says the
version may be promoted (the PPO check passed), so a failed or rejected step never changes what
the next step or the serving app loads. Downstream assets and `load_latest` read `LATEST`.
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import transformers
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)
from transformers import (
    AutoConfig,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainerCallback,
)

LATEST = "LATEST"
INFO_FILE = "eswi.json"
CHECKPOINTS = "checkpoints"


class ModelNotFoundError(LookupError):
    """No promoted version of an asset exists yet."""


class ModelStoreError(RuntimeError):
    """The store's service failed; the message names it and what to do."""


@dataclass
class ModelArtifact:
    """What a model asset returns: the model with its tokenizer, card and headline metrics."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    card: str
    metrics: dict[str, float]
    promote: bool = True
    checkpoint_key: str | None = None  # where its checkpoints were kept; default: its version
    data_version: str | None = None  # what it was built from, for reuse (base_model)


@dataclass(frozen=True)
class StoredModel:
    """A saved version, downloaded to `local_dir`; `load()` needs nothing from this project."""

    asset: str
    version: str
    uri: str
    local_dir: Path

    def load(self) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        """The model class comes from the saved config (`GPT2LMHeadModel`, `...ForSequence...`)."""
        config = AutoConfig.from_pretrained(self.local_dir)
        model_class = getattr(transformers, config.architectures[0])
        return model_class.from_pretrained(self.local_dir), AutoTokenizer.from_pretrained(
            self.local_dir
        )

    @property
    def info(self) -> dict[str, Any]:
        return json.loads((self.local_dir / INFO_FILE).read_text())


def save_artifact(artifact: ModelArtifact, directory: Path, asset: str, version: str) -> None:
    """Everything someone who never saw this project needs to `from_pretrained` the model."""
    directory.mkdir(parents=True, exist_ok=True)
    artifact.model.save_pretrained(directory, safe_serialization=True)
    artifact.tokenizer.save_pretrained(directory)
    (directory / "README.md").write_text(artifact.card, encoding="utf-8")
    info = {
        "asset": asset,
        "version": version,
        "saved_at": datetime.now(UTC).isoformat(),
        "metrics": artifact.metrics,
        "data_version": artifact.data_version,
    }
    (directory / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=2))


class ModelStore(abc.ABC):
    """Model versions per run, a promoted `LATEST` per asset, and a home for checkpoints."""

    def save(self, asset: str, version: str, artifact: ModelArtifact) -> str:
        """Saves the version, drops its checkpoints, then (if promoted) moves `LATEST`."""
        uri = self._save_version(asset, version, artifact)
        self._drop_checkpoints(asset, artifact.checkpoint_key or version)
        if artifact.promote:
            self._write_text(f"{asset}/{LATEST}", json.dumps({"version": version, "uri": uri}))
        return uri

    def latest_version(self, asset: str) -> str | None:
        text = self._read_text(f"{asset}/{LATEST}")
        return json.loads(text)["version"] if text else None

    def load_latest(self, asset: str) -> StoredModel:
        """The promoted version of `asset`, ready to `.load()` (the serving app calls this)."""
        version = self.latest_version(asset)
        if version is None:
            raise ModelNotFoundError(f"no saved version of {asset}: materialize {asset} first")
        return self.fetch(asset, version)

    @abc.abstractmethod
    def fetch(self, asset: str, version: str) -> StoredModel:
        """A local copy of one version."""

    @abc.abstractmethod
    def checkpoint_dir(self, asset: str, version: str) -> Path:
        """Local trainer `output_dir`, holding the newest stored checkpoint if there is one."""

    def checkpoint_callbacks(self, asset: str, version: str) -> list[TrainerCallback]:
        """Callbacks that copy each new checkpoint into the store (none when already there)."""
        return []

    @abc.abstractmethod
    def _save_version(self, asset: str, version: str, artifact: ModelArtifact) -> str: ...

    @abc.abstractmethod
    def _drop_checkpoints(self, asset: str, version: str) -> None: ...

    @abc.abstractmethod
    def _write_text(self, key: str, text: str) -> None:
        """Replace the object at `key` atomically (readers see the old or the new text)."""

    @abc.abstractmethod
    def _read_text(self, key: str) -> str | None: ...


class LocalModelStore(ModelStore):
    """Versions under a local directory (the default profile)."""

    def __init__(self, base_dir: str | Path) -> None:
        self.base_dir = str(base_dir)

    @property
    def _base(self) -> Path:
        return Path(self.base_dir)

    def _save_version(self, asset: str, version: str, artifact: ModelArtifact) -> str:
        directory = self._base / asset / version
        save_artifact(artifact, directory, asset, version)
        return str(directory.resolve())

    def fetch(self, asset: str, version: str) -> StoredModel:
        directory = self._base / asset / version
        if not (directory / INFO_FILE).is_file():
            raise ModelNotFoundError(f"{asset} version {version} is not in {self._base}")
        return StoredModel(asset, version, str(directory.resolve()), directory)

    def checkpoint_dir(self, asset: str, version: str) -> Path:
        return self._base / asset / version / CHECKPOINTS

    def _drop_checkpoints(self, asset: str, version: str) -> None:
        shutil.rmtree(self.checkpoint_dir(asset, version), ignore_errors=True)

    def _write_text(self, key: str, text: str) -> None:
        target = self._base / key
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False) as handle:
            handle.write(text)
        os.replace(handle.name, target)

    def _read_text(self, key: str) -> str | None:
        path = self._base / key
        return path.read_text() if path.is_file() else None


def default_cache_dir() -> str:
    return str(Path(tempfile.gettempdir()) / "eswi-model-cache")


class S3ModelStore(ModelStore):
    """Versions in an S3 bucket (production), through a boto3 S3 client; `cache_dir` holds local
    copies of versions and the working checkpoints of running steps."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "models",
        cache_dir: str | Path | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.cache_dir = str(cache_dir or default_cache_dir())
        self.endpoint_url = endpoint_url  # named in error messages

    def _key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        """The S3 client; its failures become ModelStoreErrors that say what to fix."""
        where = f"s3://{self.bucket} at {self.endpoint_url or 'AWS'}"
        try:
            yield self.client
        except (ClientError, S3UploadFailedError) as error:
            inner = error.__cause__ or error.__context__  # upload_file wraps the ClientError
            failed = inner if isinstance(inner, ClientError) else error
            code = (
                failed.response.get("Error", {}).get("Code", "")
                if isinstance(failed, ClientError)
                else ""
            )
            if code == "NoSuchBucket":
                raise ModelStoreError(
                    f"S3 bucket {self.bucket!r} does not exist ({where}): create it or set "
                    "ESWI_S3_BUCKET to an existing bucket"
                ) from error
            if code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                raise ModelStoreError(
                    f"S3 refused access to {where} ({code}): check the AWS credentials"
                ) from error
            raise ModelStoreError(f"S3 request to {where} failed: {error}") from error
        except NoCredentialsError as error:
            raise ModelStoreError(
                f"no AWS credentials for {where}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or another boto3 credential source)"
            ) from error
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            raise ModelStoreError(
                f"S3 endpoint unreachable for {where}: check ESWI_S3_ENDPOINT_URL and the network"
            ) from error

    def _upload_dir(self, directory: Path, key: str) -> None:
        """Uploads every file; eswi.json goes last, so a version that has it is complete."""
        files = sorted(
            (p for p in directory.rglob("*") if p.is_file()),
            key=lambda p: (p.name == INFO_FILE, str(p)),
        )
        with self._client() as client:
            for path in files:
                key_of_file = self._key(f"{key}/{path.relative_to(directory).as_posix()}")
                client.upload_file(str(path), self.bucket, key_of_file)

    def _download_dir(self, key: str, directory: Path) -> None:
        prefix = self._key(key) + "/"
        with self._client() as client:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    target = directory / item["Key"][len(prefix) :]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    client.download_file(self.bucket, item["Key"], str(target))

    def _delete_prefix(self, key: str) -> None:
        with self._client() as client:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(key) + "/"
            )
            for page in pages:
                objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if objects:
                    client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})

    def _save_version(self, asset: str, version: str, artifact: ModelArtifact) -> str:
        with tempfile.TemporaryDirectory() as staging:
            save_artifact(artifact, Path(staging), asset, version)
            self._upload_dir(Path(staging), f"{asset}/{version}")
        return f"s3://{self.bucket}/{self._key(f'{asset}/{version}')}"

    def fetch(self, asset: str, version: str) -> StoredModel:
        directory = Path(self.cache_dir) / asset / version
        uri = f"s3://{self.bucket}/{self._key(f'{asset}/{version}')}"
        if not (directory / INFO_FILE).is_file():
            directory.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{version}-"))
            try:
                self._download_dir(f"{asset}/{version}", staging)
                if not (staging / INFO_FILE).is_file():
                    raise ModelNotFoundError(f"{asset} version {version} is not (all) at {uri}")
                shutil.rmtree(staging / CHECKPOINTS, ignore_errors=True)
                shutil.rmtree(directory, ignore_errors=True)
                os.replace(staging, directory)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return StoredModel(asset, version, uri, directory)

    def checkpoint_dir(self, asset: str, version: str) -> Path:
        directory = Path(self.cache_dir) / "runs" / asset / version / CHECKPOINTS
        if not directory.is_dir():
            directory.mkdir(parents=True)
            self._download_dir(f"{asset}/{version}/{CHECKPOINTS}", directory)
        return directory

    def checkpoint_callbacks(self, asset: str, version: str) -> list[TrainerCallback]:
        return [_UploadCheckpoints(self, f"{asset}/{version}/{CHECKPOINTS}")]

    def _drop_checkpoints(self, asset: str, version: str) -> None:
        self._delete_prefix(f"{asset}/{version}/{CHECKPOINTS}")
        shutil.rmtree(Path(self.cache_dir) / "runs" / asset / version, ignore_errors=True)

    def _write_text(self, key: str, text: str) -> None:
        with self._client() as client:
            client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=text.encode(),
                ContentType="application/json",
            )

    def _read_text(self, key: str) -> str | None:
        with self._client() as client:
            try:
                body = client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            except client.exceptions.NoSuchKey:
                return None
            return body.read().decode()


class _UploadCheckpoints(TrainerCallback):
    """After the trainer writes `checkpoint-N` locally, copy it to S3 so a new pod can resume."""

    def __init__(self, store: S3ModelStore, key: str) -> None:
        self.store = store
        self.key = key

    def on_save(self, args, state, control, **kwargs):
        name = f"checkpoint-{state.global_step}"
        directory = Path(args.output_dir) / name
        if directory.is_dir():
            self.store._delete_prefix(self.key)
            self.store._upload_dir(directory, f"{self.key}/{name}")
