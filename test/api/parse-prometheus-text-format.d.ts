// Types for parse-prometheus-text-format (the package ships none). Output follows prom2json.
declare module 'parse-prometheus-text-format' {
  export interface PromSample {
    value?: string
    labels?: Record<string, string>
    timestamp_ms?: string
    buckets?: Record<string, string>
    quantiles?: Record<string, string>
    count?: string
    sum?: string
  }
  export interface PromFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: PromSample[]
  }
  /** Throws on a line that is not valid Prometheus text exposition. */
  export default function parsePrometheusTextFormat (text: string): PromFamily[]
}
