"""The one ``validation_error`` for a graph that does not compile (create, new version, validate)."""

from __future__ import annotations

from tradeloom.shared.errors import ValidationFailed
from tradeloom.strategy_runner.domain.graph import GraphRefused


def graph_refused(error: GraphRefused) -> ValidationFailed:
    """Every issue in ``details.issues`` (code, message, node, port, param) and in ``details.fields``
    as ``graph.nodes.<node id>.<port or parameter>``; the message names the first."""
    fields = []
    for issue in error.issues:
        path = ".".join(part for part in ("graph.nodes", issue.node, issue.port or issue.param) if part)
        fields.append({"field": path, "message": issue.message})
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return ValidationFailed(
        f"{fields[0]['field']}: {fields[0]['message']}{more}",
        details={"fields": fields, "issues": [issue.as_dict() for issue in error.issues]},
    )
