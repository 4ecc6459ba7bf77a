"""Whether a stream reaches the Pulsar source's readers through operators PyFlink fuses into one Python operator.

PyFlink's Python operator chaining (`PythonOperatorChainingOptimizer`) fuses a Python operator with the Python
operator before it when both run in the same execution mode, have the same parallelism, max parallelism and slot
sharing group, the upstream one has no other consumer, and neither chaining strategy forbids it (a downstream
`start_new_chain` or `disable_chaining`, an upstream `disable_chaining`). A writer added at the end of such a path
runs in the same Python operator as the source's readers, where `connector.in_flight` names each record's source
message. The check reads the job's transformations as they are when the sink is attached; a consumer added later
to one of the path's streams breaks the chain, which the writer then reports at its first record.
"""

from __future__ import annotations

from typing import Any

from pyflink.datastream import DataStream

from connector.in_flight import READERS_UID_SUFFIX

_PYTHON_OPERATORS = frozenset({"ExternalPythonProcessOperator", "ExternalPythonKeyedProcessOperator"})


def chained_to_source_readers(stream: DataStream) -> bool:
    """True when a Python operator added to `stream` with the environment's defaults runs in the Python operator
    of a Pulsar source's readers."""
    j_env = stream._j_data_stream.getExecutionEnvironment()
    if not j_env.isChainingEnabled() or not _python_chaining_enabled(j_env):
        return False
    consumers = _consumer_counts(j_env)
    # The writer's parallelism, which every operator on the path must have, like its unset max parallelism and
    # slot sharing group.
    parallelism = j_env.getParallelism()
    transformation = stream._j_data_stream.getTransformation()
    other_consumers = 0  # of the stream the writer reads: none; above it, none but the next operator down
    while True:
        if (transformation.getClass().getSimpleName() != "OneInputTransformation"
                or _operator_name(transformation) not in _PYTHON_OPERATORS):
            return False
        strategy = str(transformation.getOperatorFactory().getChainingStrategy())
        if (transformation.getParallelism() != parallelism
                or transformation.getMaxParallelism() != -1
                or transformation.getSlotSharingGroup().isPresent()
                or strategy == "NEVER"
                or consumers.get(transformation.getId(), 0) > other_consumers):
            return False
        uid = transformation.getUid()
        if uid is not None and uid.endswith(READERS_UID_SUFFIX):
            return True
        if strategy != "ALWAYS":  # HEAD: it starts a chain of its own
            return False
        other_consumers = 1
        transformation = transformation.getInputs()[0]


def _python_chaining_enabled(j_env: Any) -> bool:
    value = j_env.getConfiguration().toMap().get("python.operator-chaining.enabled")
    return value is None or str(value).lower() == "true"


def _consumer_counts(j_env: Any) -> dict[int, int]:
    """Per transformation id, how many transformations of the job so far read it (partitionings such as key_by
    included: they are not in the environment's list, only reachable through their readers' inputs)."""
    seen: dict[int, Any] = {}
    pending = list(j_env.getTransformations())
    while pending:
        transformation = pending.pop()
        if transformation.getId() not in seen:
            seen[transformation.getId()] = transformation
            pending.extend(transformation.getInputs())
    counts: dict[int, int] = {}
    for transformation in seen.values():
        for source in transformation.getInputs():
            counts[source.getId()] = counts.get(source.getId(), 0) + 1
    return counts


def _operator_name(transformation: Any) -> str | None:
    factory = transformation.getOperatorFactory()
    operator = factory.getOperator() if factory.getClass().getSimpleName() == "SimpleOperatorFactory" else None
    return operator.getClass().getSimpleName() if operator is not None else None

