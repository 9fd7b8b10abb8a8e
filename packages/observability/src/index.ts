export { createLogger, currentLogContext, enterLogContext, withLogContext } from './logger.js';
export type { LogFields, LogLevel, Logger, LoggerOptions } from './logger.js';
export { DURATION_BUCKETS, METRIC_CATALOGUE, SAMPLE_TIMEOUT_MS, createMetrics, metrics, parseExposition, sampleSum } from './metrics.js';
export type {
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  LabelValues,
  MetricDefinition,
  MetricLabel,
  MetricName,
  MetricType,
  PortalMetrics,
  Sample,
  Sampler,
} from './metrics.js';
