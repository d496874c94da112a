#!/usr/bin/env bash
# Whole-process start-up time and memory of `meshsim serve` as the number of workloads grows.
# For each size N (plus a 1-workload baseline) it generates a topology, starts
#   meshsim serve -f FILE --ingress-port 0 --threads 2
# measures the wall time from the start to the `ready:` line on stdout, reads VmRSS (and VmHWM,
# open file descriptors, threads) from /proc once ready, stops it with SIGTERM, and reports
# (RSS_N - RSS_1) / N per workload. Targets: 10,000 workloads ready in < 5 s, < 100 KB each.
set -euo pipefail

readonly kSelf="${0##*/}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly here
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
repo="$(cd "$here/../.." && pwd)"
readonly repo
readonly kPerCluster=50000  # workloads per cluster (the addressing allows at most 254 x 256)
readonly kTargetReadyS=5
readonly kTargetKbPerWorkload=100

usage() {
  cat <<EOF
Usage: $kSelf [-s "N1 N2 ..."] [-r REPEATS] [-T TIMEOUT_S] [-o FILE] [-k DIR] [-V] [-h]

Measures start-up wall time (start -> 'ready:' line) and resident memory of 'meshsim serve' for
topologies of N workloads, against a 1-workload baseline started in the same invocation.

  -s SIZES      workload counts to measure (default "1000 10000")
  -r REPEATS    starts per size; the median is reported (default 3)
  -T TIMEOUT_S  give up on one start after this many seconds (default 120)
  -o FILE       also write the Markdown report to FILE
  -k DIR        keep the generated topologies in DIR (default: a temporary directory, removed)
  -V            run 'meshsim validate' on each generated topology first (not timed; without it
                an invalid topology shows up as 'meshsim serve' exiting before 'ready:')
  -h            this help

Environment:
  MESHSIM_BIN   meshsim binary (default build/release/headless/meshsim under the repository)

Topology for N: one Organization (trustDomain cluster.local), ceil(N/$kPerCluster) Cluster(s),
ceil(N/10) namespaces of 10 Services (port 8080, HTTP, behaviour {}) each with one Workload
(replicas 1, sidecar, its own service account), and a mesh-wide STRICT PeerAuthentication.
Each workload listens on one socket per port, so the open-file limit must exceed N: the script
raises 'ulimit -n' as far as it is allowed and says so in the report when it cannot reach N + margin.
EOF
}

sizes="1000 10000"
repeats=3
timeout_s=120
out_file=""
keep_dir=""
validate_first=0
while getopts ":s:r:T:o:k:Vh" opt; do
  case "$opt" in
    s) sizes="$OPTARG" ;;
    r) repeats="$OPTARG" ;;
    T) timeout_s="$OPTARG" ;;
    o) out_file="$OPTARG" ;;
    k) keep_dir="$OPTARG" ;;
    V) validate_first=1 ;;
    h) usage; exit 0 ;;
    :) echo "$kSelf: option -$OPTARG needs a value" >&2; usage >&2; exit 2 ;;
    *) echo "$kSelf: unknown option -$OPTARG" >&2; usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if (($# > 0)); then
  echo "$kSelf: unexpected argument: $1" >&2
  usage >&2
  exit 2
fi
for v in repeats timeout_s; do
  if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
    echo "$kSelf: $v must be a positive integer, got '${!v}'" >&2
    exit 2
  fi
done
read -r -a size_list <<<"$sizes"
if ((${#size_list[@]} == 0)); then
  echo "$kSelf: no sizes given" >&2
  exit 2
fi
for n in "${size_list[@]}"; do
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
    echo "$kSelf: sizes must be positive integers, got '$n'" >&2
    exit 2
  fi
done
if [[ -n "$out_file" ]] && ! : >>"$out_file"; then
  echo "$kSelf: cannot write $out_file" >&2
  exit 2
fi
if [[ -z "${EPOCHREALTIME:-}" ]]; then
  echo "$kSelf: needs bash >= 5 (EPOCHREALTIME)" >&2
  exit 1
fi

meshsim_bin="${MESHSIM_BIN:-$repo/build/release/headless/meshsim}"
if [[ ! -x "$meshsim_bin" ]]; then
  log "meshsim binary not found at $meshsim_bin (build it: cmake --preset release &&" \
    "cmake --build build/release --target meshsim; or set MESHSIM_BIN)"
  exit 1
fi
if ! help_text="$("$meshsim_bin" serve --help 2>&1)"; then
  log "'meshsim serve' is not available in $meshsim_bin: $(head -n 1 <<<"$help_text")"
  log "nothing measured"
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/peers_startup.XXXXXX")"
readonly tmp
if [[ -n "$keep_dir" ]]; then
  mkdir -p "$keep_dir"
  topo_dir="$keep_dir"
else
  topo_dir="$tmp"
fi
serve_pid=""
drain_pid=""
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  stop_pid "$serve_pid" 15
  if [[ -n "$drain_pid" ]]; then kill "$drain_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ file descriptors
max_n=1
for n in "${size_list[@]}"; do ((n > max_n)) && max_n=$n; done
fd_needed=$((max_n + max_n / 10 + 1024))
fd_note=""
soft="$(ulimit -Sn)"
hard="$(ulimit -Hn)"
if [[ "$hard" != unlimited ]] && ((hard < fd_needed)); then
  if ulimit -Hn "$fd_needed" 2>/dev/null; then
    hard=$fd_needed
  fi
fi
if [[ "$hard" == unlimited ]] || ((hard >= fd_needed)); then
  target=$fd_needed
else
  target=$hard
fi
if [[ "$soft" == unlimited ]] || ((soft < target)); then
  ulimit -Sn "$target" 2>/dev/null || true
fi
fd_limit="$(ulimit -Sn)"
if [[ "$fd_limit" != unlimited ]] && ((fd_limit < fd_needed)); then
  fd_note="**open-file limit $fd_limit is below the $fd_needed wanted for $max_n workloads"
  fd_note+=" (hard limit $hard; raise it with 'ulimit -Hn' as root or in limits.conf)**"
  log "open-file limit $fd_limit < $fd_needed wanted; larger sizes may fail to bind"
fi

# ------------------------------------------------------------------ topology generator
gen_topology() {  # n file
  awk -v n="$1" -v per_cluster="$kPerCluster" 'BEGIN {
    clusters = int((n + per_cluster - 1) / per_cluster)
    print "# Generated by bench/peers/startup.sh: " n " workloads."
    print "apiVersion: meshsim/v1"
    print "kind: Organization"
    print "metadata: {name: bench}"
    print "spec: {trustDomain: cluster.local}"
    for (c = 0; c < clusters; c++) {
      print "---"
      print "apiVersion: meshsim/v1"
      print "kind: Cluster"
      printf "metadata: {name: c%d}\n", c
      printf "spec: {network: net%d, region: local, kind: kubernetes}\n", c
    }
    print "---"
    print "apiVersion: security.istio.io/v1"
    print "kind: PeerAuthentication"
    print "metadata: {namespace: istio-system, name: default}"
    print "spec: {mtls: {mode: STRICT}}"
    for (i = 0; i < n; i++) {
      ns = sprintf("ns%05d", int(i / 10))
      svc = sprintf("svc%d", i % 10)
      print "---"
      print "apiVersion: meshsim/v1"
      print "kind: Service"
      printf "metadata: {namespace: %s, name: %s}\n", ns, svc
      print "spec:"
      print "  ports: [{name: http, port: 8080, targetPort: 8080, protocol: HTTP}]"
      print "  behaviour: {}"
      print "---"
      print "apiVersion: meshsim/v1"
      print "kind: Workload"
      printf "metadata: {namespace: %s, name: %s-v1}\n", ns, svc
      print "spec:"
      printf "  service: %s\n", svc
      printf "  serviceAccount: sa%d\n", i
      printf "  cluster: c%d\n", int(i / per_cluster)
      print "  replicas: 1"
      print "  sidecar: true"
      printf "  labels: {app: %s, version: v1}\n", svc
    }
  }' >"$2"
}

# ------------------------------------------------------------------ one start
# Sets: r_ready_s r_rss_kb r_hwm_kb r_fds r_threads r_stop_s; returns 1 (with r_error) on failure.
start_once() {  # file
  local file="$1" fifo="$tmp/serve.fifo" line t0 t1 remaining fd
  r_error=""
  rm -f "$fifo"
  mkfifo "$fifo"
  t0=$EPOCHREALTIME
  "$meshsim_bin" serve -f "$file" --ingress-port 0 --threads 2 >"$fifo" 2>"$tmp/serve.err" </dev/null &
  serve_pid=$!
  exec {fd}<"$fifo"
  local ready=0
  while :; do
    remaining="$(awk -v a="$t0" -v b="$EPOCHREALTIME" -v t="$timeout_s" 'BEGIN {
      r = t - (b - a); printf "%.3f", (r > 0 ? r : 0) }')"
    [[ "$remaining" != 0.000 ]] || break
    if ! IFS= read -r -t "$remaining" -u "$fd" line; then break; fi
    if [[ "$line" == ready:* ]]; then
      ready=1
      break
    fi
  done
  t1=$EPOCHREALTIME
  # Keep draining stdout so the server never blocks on a full pipe.
  cat <&"$fd" >"$tmp/serve.rest" &
  drain_pid=$!
  exec {fd}<&-
  if ((!ready)); then
    if kill -0 "$serve_pid" 2>/dev/null; then
      r_error="no 'ready:' line within ${timeout_s}s"
    else
      r_error="meshsim serve exited before 'ready:': $(tail -n 3 "$tmp/serve.err" | tr '\n' ' ')"
    fi
    stop_pid "$serve_pid" 15
    serve_pid=""
    wait "$drain_pid" 2>/dev/null || true
    drain_pid=""
    return 1
  fi
  r_ready_s="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
  r_rss_kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status")"
  r_hwm_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status")"
  r_threads="$(awk '/^Threads:/ {print $2}' "/proc/$serve_pid/status")"
  r_fds="$(find "/proc/$serve_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  local s0=$EPOCHREALTIME
  stop_pid "$serve_pid" 15
  r_stop_s="$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}')"
  serve_pid=""
  wait "$drain_pid" 2>/dev/null || true
  drain_pid=""
  return 0
}

median() { median_of 3 "$@"; }

# ------------------------------------------------------------------ runs
declare -A med_ready med_rss med_hwm med_fds med_threads med_stop med_gen err_of
all_sizes=(1)
for n in "${size_list[@]}"; do [[ "$n" == 1 ]] || all_sizes+=("$n"); done
for n in "${all_sizes[@]}"; do
  file="$topo_dir/topology-$n.yaml"
  g0=$EPOCHREALTIME
  gen_topology "$n" "$file"
  med_gen[$n]="$(awk -v a="$g0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')"
  if ((validate_first)) &&
    ! timeout "$timeout_s" "$meshsim_bin" validate -f "$file" >"$tmp/validate.txt" 2>&1; then
    err_of[$n]="generated topology does not validate: $(tail -n 3 "$tmp/validate.txt" | tr '\n' ' ')"
    log "N=$n: ${err_of[$n]}"
    continue
  fi
  readys=() rsss=() hwms=() fdss=() thr=() stops=()
  for ((i = 1; i <= repeats; i++)); do
    if ! start_once "$file"; then
      err_of[$n]="$r_error"
      log "N=$n start $i: $r_error"
      break
    fi
    log "N=$n start $i: ready in ${r_ready_s}s, RSS $((r_rss_kb / 1024)) MiB, $r_fds fds, $r_threads threads, stop ${r_stop_s}s"
    readys+=("$r_ready_s") rsss+=("$r_rss_kb") hwms+=("$r_hwm_kb") fdss+=("$r_fds")
    thr+=("$r_threads") stops+=("$r_stop_s")
  done
  [[ -z "${err_of[$n]:-}" ]] || continue
  med_ready[$n]="$(median "${readys[@]}")"
  med_rss[$n]="$(median "${rsss[@]}")"
  med_hwm[$n]="$(median "${hwms[@]}")"
  med_fds[$n]="$(median "${fdss[@]}")"
  med_threads[$n]="$(median "${thr[@]}")"
  med_stop[$n]="$(median "${stops[@]}")"
done

# ------------------------------------------------------------------ report
report="$tmp/report.md"
{
  echo "# meshsim serve: start-up time and memory by number of workloads"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc --all) CPUs; load average at the end:" \
    "$(cut -d' ' -f1-3 /proc/loadavg). Binary: $meshsim_bin. Command: \`meshsim serve -f FILE" \
    "--ingress-port 0 --threads 2\`. Median of $repeats start(s) per size; ready = wall time from" \
    "the start to the \`ready:\` line; memory read from /proc/PID/status once ready."
  echo "Open-file limit used: $fd_limit (wanted $fd_needed for $max_n workloads)."
  [[ -z "$fd_note" ]] || echo "$fd_note"
  echo
  echo "| workloads | namespaces | clusters | ready s | RSS MiB | peak RSS MiB | (RSS_N − RSS_1)/N KB | open fds | threads | stop s | targets (< ${kTargetReadyS}s at 10k, < ${kTargetKbPerWorkload} KB/workload) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for n in "${all_sizes[@]}"; do
    nss=$(((n + 9) / 10))
    ncl=$(((n + kPerCluster - 1) / kPerCluster))
    if [[ -n "${err_of[$n]:-}" ]]; then
      echo "| $n | $nss | $ncl | failed: ${err_of[$n]} | | | | | | | |"
      continue
    fi
    rss_mib="$(awk -v k="${med_rss[$n]}" 'BEGIN {printf "%.1f", k / 1024}')"
    hwm_mib="$(awk -v k="${med_hwm[$n]}" 'BEGIN {printf "%.1f", k / 1024}')"
    per="baseline"
    verdict=""
    if [[ "$n" != 1 && -n "${med_rss[1]:-}" ]]; then
      per="$(awk -v a="${med_rss[$n]}" -v b="${med_rss[1]}" -v n="$n" 'BEGIN {printf "%.1f", (a - b) / n}')"
      verdict="$(awk -v p="$per" -v t="${med_ready[$n]}" -v n="$n" -v tk="$kTargetKbPerWorkload" -v ts="$kTargetReadyS" 'BEGIN {
        m = (p < tk) ? "memory ok" : "memory OVER"
        if (n >= 10000) { s = (t < ts * n / 10000) ? "time ok" : "time OVER"; m = s ", " m }
        print m }')"
    fi
    printf '| %s | %s | %s | %.2f | %s | %s | %s | %.0f | %.0f | %.2f | %s |\n' "$n" "$nss" "$ncl" \
      "${med_ready[$n]}" "$rss_mib" "$hwm_mib" "$per" "${med_fds[$n]}" "${med_threads[$n]}" \
      "${med_stop[$n]}" "$verdict"
  done
  echo
  echo "The time target scales linearly above 10,000 workloads (N/10,000 × ${kTargetReadyS} s). Topology" \
    "generation (awk, not included in 'ready'): $(for n in "${all_sizes[@]}"; do printf '%s: %ss; ' "$n" "${med_gen[$n]}"; done)"
} >"$report"

cat "$report"
if [[ -n "$out_file" ]]; then
  cp "$report" "$out_file"
  log "report written to $out_file"
fi
failed=0
for n in "${all_sizes[@]}"; do [[ -z "${err_of[$n]:-}" ]] || failed=1; done
exit "$failed"
