"""Node types, one module per family; importing this package registers all of them."""

from __future__ import annotations

from app.engine.nodes import control, people, tasks, waits
from app.engine.nodes.base import NODE_TYPES, NodeFailure, NodeType, register

__all__ = ["NODE_TYPES", "NodeFailure", "NodeType", "control", "people", "register", "tasks",
           "waits"]
