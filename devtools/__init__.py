"""Development and test infrastructure, not part of the connector: the local Pulsar broker (`./dev broker`) and the
standalone Flink cluster the process-kill tests use."""
