"""Read a Pulsar topic exactly once into a PyFlink DataStream (checkpointed; resumes after failures).

    ./dev broker start && .venv/bin/python examples/exactly_once_source.py orders
"""

import sys

from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema, StartCursor

env = StreamExecutionEnvironment.get_execution_environment()
env.enable_checkpointing(5_000)  # positions (MessageIds per partition) are stored in every checkpoint

source = (PulsarSource.builder()
          .set_service_url("pulsar://127.0.0.1:6650")
          .set_admin_url("http://127.0.0.1:8080")
          .set_topics(sys.argv[1] if len(sys.argv) > 1 else "orders")
          .set_start_cursor(StartCursor.earliest())
          .set_deserialization_schema(SimpleStringSchema())
          .build())

source.create_stream(env).map(str.upper).print()
env.execute("exactly-once pulsar source")
