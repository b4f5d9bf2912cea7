"""`jwt_encode`: signing JWTs (client assertions) with keys taken from secrets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jwt

from app.engine.expressions.errors import ExpressionError

_ALGORITHMS = frozenset(jwt.algorithms.get_default_algorithms()) - {"none"}


def _jwk_from(secret: Any, kid: Any) -> dict[str, Any] | None:
    """The JWK inside `secret` (a JWK, or a JWKS whose key matches `kid`), else None."""
    if isinstance(secret, str):
        if not secret.lstrip().startswith("{"):
            return None
        try:
            secret = json.loads(secret)
        except ValueError:
            raise ExpressionError("jwt_encode: the secret looks like JSON but is not") from None
    if not isinstance(secret, Mapping):
        return None
    keys = secret.get("keys")
    if keys is None:
        return dict(secret)
    if not isinstance(keys, list) or not keys:
        raise ExpressionError("jwt_encode: the JWKS has no keys")
    for key in keys:
        if isinstance(key, Mapping) and (kid is None or key.get("kid") == kid):
            return dict(key)
    raise ExpressionError("jwt_encode: no key in the JWKS has the header's kid")


def jwt_encode(spec: Any) -> str:
    """Sign `{'headers': {'alg': 'RS256', ...}, 'payload': {...}, 'secret': key}`.

    The key may be an HMAC secret string, a PEM private key, or a JWK / JWKS (as a dict or a
    JSON string). The algorithm comes from `headers.alg` (default HS256); `none` is refused
    because an unsigned assertion is never what a design means. Error messages never quote
    the key: PyJWT's sometimes do, so they are replaced.
    """
    if not isinstance(spec, Mapping):
        raise ExpressionError("jwt_encode needs {'headers': ..., 'payload': ..., 'secret': ...}")
    headers = spec.get("headers") or {}
    payload = spec.get("payload")
    secret = spec.get("secret")
    if not isinstance(headers, Mapping) or not isinstance(payload, Mapping):
        raise ExpressionError("jwt_encode: 'headers' and 'payload' must be dicts")
    if secret is None or secret == "":
        raise ExpressionError("jwt_encode: 'secret' is missing or empty")
    headers = dict(headers)
    algorithm = headers.pop("alg", None) or "HS256"
    if algorithm not in _ALGORITHMS:
        raise ExpressionError(f"jwt_encode: unsupported algorithm '{algorithm}'")
    jwk = _jwk_from(secret, headers.get("kid"))
    try:
        key: Any = jwt.PyJWK(jwk, algorithm).key if jwk is not None else secret
    except Exception:  # PyJWK's messages embed the key material
        raise ExpressionError(f"jwt_encode: the JWK is not a usable {algorithm} key") from None
    if not isinstance(key, str | bytes) and jwk is None:
        raise ExpressionError("jwt_encode: 'secret' must be a string or a JWK")
    try:
        return jwt.encode(dict(payload), key, algorithm=algorithm, headers=headers or None)
    except TypeError:
        raise ExpressionError("jwt_encode: the payload is not JSON-serialisable") from None
    except Exception:
        raise ExpressionError(f"jwt_encode: the secret is not a usable {algorithm} key") from None
