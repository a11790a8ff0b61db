-- wrk script for bench/harness.py: wrk's --latency table shows only 50/75/90/99 %, so this
-- prints the exact percentiles (p95 included) and counts as one line that the harness parses.
-- Only done() is defined: requests and responses stay on wrk's fast C path.
-- Times are in microseconds; status_errors counts responses with a status of 400 or more.

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "bench-stats requests=%d duration_us=%d p50_us=%d p75_us=%d p90_us=%d p95_us=%d"
      .. " p99_us=%d max_us=%d status_errors=%d connect_errors=%d read_errors=%d"
      .. " write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout
  ))
end
