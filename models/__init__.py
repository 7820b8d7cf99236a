"""Model manifest: where each model file comes from and its SHA-256, checked at load time."""

from models.registry import ModelEntry, ModelFileError, load_manifest, resolve_model_path

__all__ = ["ModelEntry", "ModelFileError", "load_manifest", "resolve_model_path"]
