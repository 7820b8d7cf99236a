"""The one error the crypto package raises."""


class CryptoError(ValueError):
    """Ciphertext, framing or key cannot be processed; the message names what (no secret in it)."""
