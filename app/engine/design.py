"""Compiling designs once per version and sharing the result between runners."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from threading import Lock
from typing import Any

from app.engine.errors import DesignError
from app.engine.model import Design
from app.engine.validation import build

CACHE_SIZE = 256
_cache: OrderedDict[str, Design] = OrderedDict()
_lock = Lock()


def design_key(raw: dict[str, Any]) -> str:
    """`id:version` when the design has both (published versions never change), else a digest."""
    if isinstance(raw, dict) and raw.get("id") is not None and raw.get("version") is not None:
        return f"{raw['id']}:{raw['version']}"
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def compile_design(raw: dict[str, Any]) -> Design:
    """The compiled design for `raw`, from the cache when this version was compiled before.

    Raises DesignError carrying every validation problem. Callers must not edit a published
    version's dict in place: its `id:version` key would then serve the stale compiled form.
    """
    key = design_key(raw)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    design, problems = build(raw, key)
    if design is None:
        raise DesignError("the design is not valid", problems)
    with _lock:
        _cache[key] = design
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return design


def clear_cache() -> None:
    """Forget compiled designs (tests, or after editing a draft in place)."""
    with _lock:
        _cache.clear()
