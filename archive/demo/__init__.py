"""The bundled demo meeting: a synthetic re-enactment spoken by espeak-ng voices (see README.md here)."""
