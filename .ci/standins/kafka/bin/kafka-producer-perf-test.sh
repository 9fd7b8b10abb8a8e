#!/usr/bin/env bash
# Stand-in for Apache Kafka's bin/kafka-producer-perf-test.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.ProducerPerformance "$@"
