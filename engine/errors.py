"""Engine error taxonomy. The API maps each class to an HTTP status and vendor string in one place."""


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class UnsupportedImageError(EngineError):
    """The bytes are not an image we can decode (IMAGE_ERROR_UNSUPPORTED_FORMAT)."""


class ImageSizeError(EngineError):
    """The image is below 200 px or above 8000 px on a side (INVALID_IMAGE_SIZE)."""


class CardNotFoundError(EngineError):
    """No residence permit in the photo (ID_CARD_NOT_FOUND)."""
