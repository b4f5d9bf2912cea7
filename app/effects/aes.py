"""AES-256-CBC envelopes for vendors that encrypt request and response bodies.

Wire format (both directions): ``base64(IV || ciphertext)`` as ASCII, standard alphabet with ``=``
padding, where IV is 16 random bytes and the plaintext is PKCS7-padded to the 16-byte block. When a
vendor mandates a fixed IV (``encryption_config.iv``), the envelope is just ``base64(ciphertext)``.
On decryption, whitespace around the text is ignored and the URL-safe alphabet is accepted too.

Keys (and a fixed IV) are accepted in the common forms: raw bytes of the right length, a hex
string, a base64 (standard or URL-safe) string, or a text string whose UTF-8 bytes have the right
length (vendors often hand out a "32-character key"). Nothing here ever puts key material or
plaintext into an exception message.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_BYTES = 32
IV_BYTES = 16


class AesEnvelopeError(ValueError):
    """Bad key or undecryptable envelope; the message never includes key or data."""


def _b64decode(text: str) -> bytes | None:
    """Strict base64 in either alphabet, padding optional; None when ``text`` is not base64."""
    padded = text + "=" * (-len(text) % 4)
    if "-" in text or "_" in text:
        padded = padded.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _decode_material(value: str | bytes, size: int, what: str) -> bytes:
    if isinstance(value, bytes):
        if len(value) == size:
            return value
        value = value.decode("ascii", errors="replace")
    text = value.strip()
    if len(text) == size * 2:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    if len(text.encode()) == size:
        return text.encode()
    raw = _b64decode(text)
    if raw is not None and len(raw) == size:
        return raw
    raise AesEnvelopeError(
        f"{what} must be {size} bytes given as raw bytes, hex, base64 or a {size}-character string"
    )


def parse_key(value: str | bytes) -> bytes:
    """Return the 32-byte AES-256 key encoded in ``value`` (raw, hex, base64 or 32-char text)."""
    return _decode_material(value, KEY_BYTES, "the AES-256 key")


def parse_iv(value: str | bytes) -> bytes:
    """Return the 16-byte IV encoded in ``value`` (same forms as ``parse_key``)."""
    return _decode_material(value, IV_BYTES, "the AES IV")


def encrypt(plaintext: bytes, key: bytes, *, fixed_iv: bytes | None = None) -> str:
    """Return the base64 envelope; a random IV is generated and prefixed unless ``fixed_iv``."""
    iv = fixed_iv if fixed_iv is not None else os.urandom(IV_BYTES)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    wire = ciphertext if fixed_iv is not None else iv + ciphertext
    return base64.b64encode(wire).decode("ascii")


def decrypt(envelope: str | bytes, key: bytes, *, fixed_iv: bytes | None = None) -> bytes:
    """Return the plaintext inside ``envelope``; raises ``AesEnvelopeError`` when it is not one."""
    text = envelope.decode("ascii", errors="replace") if isinstance(envelope, bytes) else envelope
    text = text.strip()
    raw = _b64decode(text) or b""
    if fixed_iv is None:
        iv, ciphertext = raw[:IV_BYTES], raw[IV_BYTES:]
    else:
        iv, ciphertext = fixed_iv, raw
    if len(iv) != IV_BYTES or not ciphertext or len(ciphertext) % IV_BYTES:
        raise AesEnvelopeError("not an AES-256-CBC envelope")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise AesEnvelopeError("could not decrypt: wrong key or corrupted envelope") from None
