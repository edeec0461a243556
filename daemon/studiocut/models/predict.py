"""predict: open the model a request names, once per process, from weights that are checked.

Downloaded weights live in the models folder (``$STUDIOCUT_MODELS`` or the user data folder),
the small u2netp ships inside the package; every file is checked against the registry's
checksum before a session opens. Opening never downloads: a missing file is a ModelError that
names the command to run. The families are code of their own: ``saliency``, ``sam`` and
``key``; the rows and the ``MaskModel`` interface are in ``registry``.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from studiocut.errors import ModelError
from studiocut.models.auto import AutoModel
from studiocut.models.download import Artifact, checksum_ok
from studiocut.models.key import BackdropKey
from studiocut.models.providers import Placement, open_session
from studiocut.models.registry import (
    MODELS,
    KeySettings,
    MaskModel,
    ModelSpec,
    Prompt,
    Request,
    spec_for,
)
from studiocut.models.saliency import OnnxSaliencyModel
from studiocut.models.sam import SamModel

log = logging.getLogger(__name__)


def models_dir() -> Path:
    """Where downloaded weights live: $STUDIOCUT_MODELS, else the user data folder."""
    env = os.environ.get("STUDIOCUT_MODELS")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("studiocut", appauthor=False) / "models"


def weights_path(spec: ModelSpec, artifact: Artifact | None = None) -> Path:
    """Return the file holding ``spec``'s (main, or the given) weights."""
    if spec.path is not None:
        return spec.path
    name = (artifact or spec.artifacts[0]).file
    if spec.embedded:
        return Path(str(resources.files("studiocut.models") / name))
    return models_dir() / name


def installed(spec: ModelSpec) -> bool:
    return not spec.needs_files or all(weights_path(spec, a).is_file() for a in spec.artifacts)


def installed_models() -> list[str]:
    """Names of the registered models that can run now (SAM needs a prompt: not listed)."""
    return sorted(n for n, s in MODELS.items() if s.family != "sam" and installed(s))


def pull_command(spec: ModelSpec) -> str:
    return f"studiocut models pull {spec.name}"


def verify(spec: ModelSpec, path: Path, artifact: Artifact | None = None) -> None:
    """Raise ModelError unless ``path`` holds exactly the registered weights."""
    artifact = artifact or spec.artifacts[0]
    ok, description = checksum_ok(path, artifact)
    if not ok:
        algo = description.split()[0]
        raise ModelError(f"{path}: {algo} checksum mismatch for model '{spec.name}' "
                         f"({description}); the file is damaged or not these weights: "
                         f"run `{pull_command(spec)}` to install it again")


# --------------------------------------------------------------------------- loading


_loaded: dict[Any, MaskModel] = {}
_lock = threading.RLock()


def load(name: str, *, threads: int = 0) -> MaskModel:
    """Return the registered model ``name`` on the CPU (or ``device: auto`` defaults)."""
    return open_model(Request(spec_for(name), Placement(threads=threads)))


def open_model(request: Request) -> MaskModel:
    """Return the model for ``request``, loading it once per process; raise ModelError if it
    is unknown, missing or damaged. Never downloads."""
    key = (request.spec, _freeze(request.placement), request.prompt, request.key)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _open(request)
        return _loaded[key]


def _freeze(placement: Placement) -> tuple[Any, ...]:
    options = tuple(sorted((k, tuple(sorted(v.items()))) for k, v in placement.options.items()))
    return (placement.device, placement.require_gpu, placement.threads, options,
            placement.cache_dir)


def _open(request: Request) -> MaskModel:
    spec = request.spec
    if spec.family == "key":
        settings = request.key or KeySettings()
        assist_name = "u2netp" if settings.assist == "auto" else settings.assist
        assist = None
        if assist_name != "none":
            assist = open_model(Request(spec_for(assist_name), request.placement))
        return BackdropKey(settings, assist=assist)
    if spec.family == "auto":
        return AutoModel(open_model(Request(spec_for("u2netp"), request.placement)))
    if spec.family == "custom":
        assert spec.path is not None
        if not spec.path.is_file():
            raise ModelError(f"custom model file {spec.path} does not exist")
        if spec.sha256:
            verify(spec, spec.path)
        return OnnxSaliencyModel(spec, open_session(spec.path, request.placement,
                                                    what=f"model {spec.name}"))
    paths = []
    for artifact in spec.artifacts:
        path = weights_path(spec, artifact)
        if not path.is_file():
            raise ModelError(f"model '{spec.name}' is not installed: run `{pull_command(spec)}`"
                             f" (or put {artifact.file} in {path.parent})")
        verify(spec, path, artifact)
        paths.append(path)
    if not spec.commercial:
        log.warning("model %s: %s", spec.name, spec.licence)
    what = f"model {spec.name}"
    if spec.family == "sam":
        prompt = request.prompt or Prompt(auto=True)
        first = None
        if prompt.auto:
            first = open_model(Request(spec_for(prompt.first_pass), request.placement))
        encoder = open_session(paths[0], request.placement, what=what + " encoder")
        decoder = open_session(paths[1], request.placement, what=what + " decoder")
        return SamModel(spec, encoder, decoder, prompt, first)
    return OnnxSaliencyModel(spec, open_session(paths[0], request.placement, what=what))
