"""The exactly-once Pulsar source: cursors, discovery, split readers and their PyFlink glue."""
