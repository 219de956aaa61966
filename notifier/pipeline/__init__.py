"""The RabbitMQ pipeline: router -> generator -> worker -> sender.

Stages are plain functions (message in, :mod:`outcome <notifier.pipeline.outcomes>`
out) that know nothing of pika; :mod:`notifier.pipeline.broker` owns the
connection, topology, confirms and acks, and :mod:`notifier.pipeline.runner`
drives stages from the broker.
"""
