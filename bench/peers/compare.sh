#!/usr/bin/env bash
# Whole-process comparison of two sidecar chains on this machine, measured with the same harness
# as /work/shared/reference/performance.md ("Run A"):
#   (a) nginx:   wrk -> nginx client sidecar -> mTLS -> nginx server sidecar -> nginx backend
#                (bench/peers/nginx_chain.sh)
#   (b) meshsim: wrk -> meshsim ingress (client sidecar) -> mTLS -> backend's sidecar -> backend,
#                all in one `meshsim serve` process (bench/peers/mesh/chain.yaml)
# Every chain process is pinned to CHAIN_CPU (default 0), wrk to WRK_CPU (default 1).
# For each chain and each load profile (saturation: -tT -cC; unloaded: -t1 -c1) the run is repeated
# N times, interleaving the chains, and the median of each figure is reported as a Markdown table.
set -euo pipefail

readonly kSelf="${0##*/}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly here
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
repo="$(cd "$here/../.." && pwd)"
readonly repo
readonly kHostHeader="backend.bench.svc.cluster.local"

usage() {
  cat <<EOF
Usage: $kSelf [-d DURATION] [-t THREADS] [-c CONNECTIONS] [-n REPEATS] [-o FILE]
              [-w WARMUP_S] [-p BASE_PORT] [-C CHAIN_CPU] [-W WRK_CPU] [-S] [-h]

Runs wrk against the nginx chain and the meshsim chain, side by side, and prints a Markdown table
(one row per chain plus a meshsim/nginx ratio row) for two load profiles:
  saturation  wrk -tTHREADS -cCONNECTIONS -dDURATION --latency
  unloaded    wrk -t1 -c1 -dDURATION --latency          (per-hop latency; skip with -S)

  -d DURATION     wrk duration, N, Ns or Nm (default 10s)
  -t THREADS      wrk threads for the saturation profile (default 1)
  -c CONNECTIONS  wrk connections for the saturation profile (default 64)
  -n REPEATS      runs per chain and profile; the median is reported (default 3)
  -o FILE         also write the Markdown report to FILE
  -w WARMUP_S     unmeasured wrk run per chain before measuring, seconds (default 2; 0 = none)
  -p BASE_PORT    nginx chain uses BASE_PORT..BASE_PORT+2, meshsim ingress BASE_PORT+10
                  (default 18080)
  -C CHAIN_CPU    CPU for every chain process (default 0)
  -W WRK_CPU      CPU for wrk (default 1)
  -S              skip the unloaded (-c1) profile
  -h              this help

Environment:
  MESHSIM_BIN     meshsim binary (default build/release/headless/meshsim under the repository)

Measured per run: requests/s and p50/p90 latency from wrk --latency; CPU time (utime+stime from
/proc/PID/stat, master + worker for nginx) of every process on the path, before and after the run,
divided by the number of requests wrk completed. meshsim runs all sidecars and the backend in one
process: its per-sidecar figure is the process CPU divided by the 2 sidecars on the path.
If 'meshsim serve' is not available, the meshsim row says so and only nginx is measured.
EOF
}

duration=10s
threads=1
conns=64
repeats=3
out_file=""
warmup=2
base_port=18080
chain_cpu=0
wrk_cpu=1
skip_c1=0
while getopts ":d:t:c:n:o:w:p:C:W:Sh" opt; do
  case "$opt" in
    d) duration="$OPTARG" ;;
    t) threads="$OPTARG" ;;
    c) conns="$OPTARG" ;;
    n) repeats="$OPTARG" ;;
    o) out_file="$OPTARG" ;;
    w) warmup="$OPTARG" ;;
    p) base_port="$OPTARG" ;;
    C) chain_cpu="$OPTARG" ;;
    W) wrk_cpu="$OPTARG" ;;
    S) skip_c1=1 ;;
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
for v in threads conns repeats warmup base_port chain_cpu wrk_cpu; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
    echo "$kSelf: $v must be a non-negative integer, got '${!v}'" >&2
    exit 2
  fi
done
if ((threads < 1 || conns < threads || repeats < 1)); then
  echo "$kSelf: need THREADS >= 1, CONNECTIONS >= THREADS, REPEATS >= 1" >&2
  exit 2
fi
if [[ "$duration" =~ ^([0-9]+)s?$ ]]; then
  duration_s=${BASH_REMATCH[1]}
elif [[ "$duration" =~ ^([0-9]+)m$ ]]; then
  duration_s=$((BASH_REMATCH[1] * 60))
else
  echo "$kSelf: DURATION must be N, Ns or Nm, got '$duration'" >&2
  exit 2
fi
if ((duration_s < 1)); then
  echo "$kSelf: DURATION must be at least 1s" >&2
  exit 2
fi
if [[ -n "$out_file" ]]; then
  if ! : >>"$out_file"; then
    echo "$kSelf: cannot write $out_file" >&2
    exit 2
  fi
fi

for tool in wrk taskset curl nginx; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$kSelf: '$tool' not found (apt-get install wrk util-linux curl nginx-light)" >&2
    exit 1
  fi
done
ncpu="$(nproc --all)"
if ((chain_cpu >= ncpu || wrk_cpu >= ncpu)); then
  echo "$kSelf: CPU $chain_cpu or $wrk_cpu does not exist (this machine has $ncpu)" >&2
  exit 2
fi
clk_tck="$(getconf CLK_TCK)"
readonly clk_tck

meshsim_bin="${MESHSIM_BIN:-$repo/build/release/headless/meshsim}"
readonly mesh_yaml="$here/mesh/chain.yaml"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/peers_compare.XXXXXX")"
readonly tmp
chain_pid=""
mesh_pid=""

cleanup() {
  trap - EXIT INT TERM
  stop_pid "$mesh_pid"
  stop_pid "$chain_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready_line() {  # file pid timeout_s -> prints the first "ready:" line; 1 on timeout/death
  local file="$1" pid="$2" deadline=$((SECONDS + $3)) line
  while ((SECONDS < deadline)); do
    line="$(grep -m1 '^ready:' "$file" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${load_start%% *}" 'BEGIN {exit !(l > 0.5)}'; then
  log "warning: load average is $load_start: other work on this machine will distort the figures"
fi

# ------------------------------------------------------------------ per-chain process groups
# group name -> space-separated pids whose CPU is summed
declare -A group_pids
# chain -> ordered list of its groups; chain -> URL
declare -A chain_groups chain_url chain_label
chains=()

# ------------------------------------------------------------------ nginx chain
runs_per_chain=$((repeats * (skip_c1 ? 1 : 2)))
lifetime=$((2 * (runs_per_chain * (duration_s + 3) + warmup + 10) + 300))
log "starting the nginx chain on CPU $chain_cpu (ports $base_port..$((base_port + 2)))"
taskset -c "$chain_cpu" "$here/nginx_chain.sh" -p "$base_port" -T "$lifetime" \
  >"$tmp/nginx.out" 2>"$tmp/nginx.err" </dev/null &
chain_pid=$!
if ! ready="$(wait_ready_line "$tmp/nginx.out" "$chain_pid" 60)"; then
  log "the nginx chain did not become ready:"
  cat "$tmp/nginx.err" >&2
  exit 1
fi
[[ "$ready" =~ url=([^ ]+)\ client=([0-9]+),([0-9]+)\ server=([0-9]+),([0-9]+)\ backend=([0-9]+),([0-9]+) ]] || {
  log "cannot parse the nginx chain's ready line: $ready"
  exit 1
}
chain_url[nginx]="${BASH_REMATCH[1]}"
group_pids[nginx.client]="${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
group_pids[nginx.server]="${BASH_REMATCH[4]} ${BASH_REMATCH[5]}"
group_pids[nginx.backend]="${BASH_REMATCH[6]} ${BASH_REMATCH[7]}"
chain_groups[nginx]="client server backend"
nginx_version="$(nginx -v 2>&1 | sed 's|.*nginx/||')"
chain_label[nginx]="nginx $nginx_version"
chains+=(nginx)
# wrk straight at the nginx backend (no sidecar), unloaded profile only: the baseline for the
# added latency per hop.
chain_url[direct]="http://127.0.0.1:$((base_port + 2))/"
group_pids[direct.backend]="${group_pids[nginx.backend]}"
chain_groups[direct]="backend"

# ------------------------------------------------------------------ meshsim chain
mesh_status=""
mesh_port=$((base_port + 10))
start_meshsim() {
  if [[ ! -x "$meshsim_bin" ]]; then
    mesh_status="meshsim binary not found at $meshsim_bin (build it, or set MESHSIM_BIN)"
    return 1
  fi
  if ! "$meshsim_bin" serve --help >"$tmp/serve_help.txt" 2>&1; then
    mesh_status="'meshsim serve' is not available in $meshsim_bin ($(head -n 1 "$tmp/serve_help.txt"))"
    return 1
  fi
  if ! "$meshsim_bin" validate -f "$mesh_yaml" >"$tmp/validate.txt" 2>&1; then
    mesh_status="$mesh_yaml does not validate: $(tail -n 3 "$tmp/validate.txt" | tr '\n' ' ')"
    return 1
  fi
  if port_in_use "$mesh_port"; then
    mesh_status="ingress port 127.0.0.1:$mesh_port is in use (choose another -p)"
    return 1
  fi
  log "starting meshsim serve on CPU $chain_cpu (ingress 127.0.0.1:$mesh_port, 1 thread)"
  # --no-access-log: the nginx chain runs with access_log off; metrics stay on in meshsim.
  taskset -c "$chain_cpu" "$meshsim_bin" serve -f "$mesh_yaml" --ingress-port "$mesh_port" \
    --threads 1 --no-admin --no-access-log >"$tmp/mesh.out" 2>"$tmp/mesh.err" </dev/null &
  mesh_pid=$!
  if ! wait_ready_line "$tmp/mesh.out" "$mesh_pid" 60 >/dev/null; then
    mesh_status="'meshsim serve' did not print 'ready:' within 60 s: $(tail -n 3 "$tmp/mesh.err" | tr '\n' ' ')"
    stop_pid "$mesh_pid"
    mesh_pid=""
    return 1
  fi
  local code
  code="$(curl -sS -o "$tmp/mesh_body.txt" -w '%{http_code}' --max-time 5 \
    -H "Host: $kHostHeader" "http://127.0.0.1:$mesh_port/" 2>&1 || true)"
  if [[ "$code" != "200" ]]; then
    mesh_status="a request through the meshsim chain did not return 200 (got '$code')"
    stop_pid "$mesh_pid"
    mesh_pid=""
    return 1
  fi
  return 0
}
if start_meshsim; then
  chain_url[meshsim]="http://127.0.0.1:$mesh_port/"
  group_pids[meshsim.process]="$mesh_pid"
  chain_groups[meshsim]="process"
  chain_label[meshsim]="meshsim"
  chains+=(meshsim)
else
  log "meshsim chain unavailable: $mesh_status"
fi

# ------------------------------------------------------------------ measurement helpers
ticks_of() {  # pid -> utime+stime in clock ticks (whole process, all threads)
  local stat rest
  stat="$(cat "/proc/$1/stat")" || { log "process $1 is gone"; exit 1; }
  rest="${stat##*) }"  # drop "pid (comm) ", comm may contain spaces
  # shellcheck disable=SC2086
  set -- $rest
  # After the comm: $1 = state (field 3), so utime (field 14) = ${12}, stime (field 15) = ${13}.
  echo $((${12} + ${13}))
}
group_ticks() {  # group -> summed ticks
  local pid total=0
  for pid in ${group_pids[$1]}; do total=$((total + $(ticks_of "$pid"))); done
  echo "$total"
}
rss_kb_of_group() {
  local pid total=0 kb
  for pid in ${group_pids[$1]}; do
    kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
    total=$((total + kb))
  done
  echo "$total"
}
to_us() {  # wrk value such as 512.00us, 1.23ms, 2.00s -> microseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.1f", v }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.1f", v * 1000 }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.1f", v * 60e6 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.1f", v * 1e6 }
    else { printf "nan" } }'
}

# results[chain|profile|metric] = space-separated per-run values
declare -A results
add_result() { results[$1]="${results[$1]:-}${results[$1]:+ }$2"; }

run_wrk() {  # chain threads conns seconds outfile
  taskset -c "$wrk_cpu" wrk -t"$2" -c"$3" -d"$4"s --latency --timeout 5s \
    -H "Host: $kHostHeader" "${chain_url[$1]}" >"$5" 2>&1
}

measure() {  # chain profile threads conns rep
  local chain="$1" profile="$2" t="$3" c="$4" rep="$5" g
  local out="$tmp/wrk.$chain.$profile.$rep.txt"
  declare -A before
  for g in ${chain_groups[$chain]}; do before[$g]="$(group_ticks "$chain.$g")"; done
  if ! run_wrk "$chain" "$t" "$c" "$duration_s" "$out"; then
    log "wrk failed against $chain:"
    cat "$out" >&2
    exit 1
  fi
  local requests rps p50 p90 non2xx sock_err
  requests="$(awk '/requests in/ {print $1; exit}' "$out")"
  rps="$(awk '/^Requests\/sec:/ {print $2; exit}' "$out")"
  p50="$(to_us "$(awk '$1 == "50%" {print $2; exit}' "$out")")"
  p90="$(to_us "$(awk '$1 == "90%" {print $2; exit}' "$out")")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF; exit}' "$out")"
  sock_err="$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print; exit}' "$out")"
  if [[ -z "$requests" || "$requests" == 0 || -z "$rps" ]]; then
    log "wrk completed no request against $chain:"
    cat "$out" >&2
    exit 1
  fi
  add_result "$chain|$profile|rps" "$rps"
  add_result "$chain|$profile|p50" "$p50"
  add_result "$chain|$profile|p90" "$p90"
  local errs=$((${non2xx:-0}))
  if [[ -n "$sock_err" ]]; then
    errs=$((errs + $(grep -o '[0-9]\+' <<<"$sock_err" | awk '{s += $1} END {print s + 0}')))
  fi
  add_result "$chain|$profile|errors" "$errs"
  local total=0 dt us
  for g in ${chain_groups[$chain]}; do
    dt=$(($(group_ticks "$chain.$g") - before[$g]))
    total=$((total + dt))
    us="$(awk -v t="$dt" -v hz="$clk_tck" -v n="$requests" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')"
    add_result "$chain|$profile|cpu.$g" "$us"
  done
  us="$(awk -v t="$total" -v hz="$clk_tck" -v n="$requests" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')"
  add_result "$chain|$profile|cpu.path" "$us"
  log "$chain $profile run $rep: $rps rps, p50 ${p50} us, p90 ${p90} us, path CPU ${us} us/req, errors $errs"
}

median() { median_of 2 "$@"; }
med() {  # key -> median of its runs, or empty
  local key="$1"
  [[ -n "${results[$key]:-}" ]] || return 0
  # shellcheck disable=SC2086
  median ${results[$key]}
}
fmt() {  # number digits -> formatted, "—" when empty
  if [[ -z "$1" ]]; then echo "—"; else awk -v v="$1" -v d="$2" 'BEGIN {printf "%.*f", d, v}'; fi
}
ratio() {  # a b -> a/b with 2 decimals and ×, "—" when either is missing or b is 0
  if [[ -z "$1" || -z "$2" ]]; then echo "—"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "—"; else printf "%.2f×", a / b}'
}

# ------------------------------------------------------------------ runs
profiles=(sat)
declare -A profile_t profile_c profile_title
profile_t[sat]=$threads
profile_c[sat]=$conns
profile_title[sat]="Saturation: \`wrk -t$threads -c$conns -d${duration_s}s --latency\`"
if ((!skip_c1)); then
  profiles+=(c1)
  profile_t[c1]=1
  profile_c[c1]=1
  profile_title[c1]="Unloaded (per-hop latency): \`wrk -t1 -c1 -d${duration_s}s --latency\`"
fi

if ((warmup > 0)); then
  for chain in "${chains[@]}"; do
    log "warm-up: $chain, ${warmup}s"
    run_wrk "$chain" "$threads" "$conns" "$warmup" "$tmp/warmup.$chain.txt" || {
      log "warm-up wrk failed against $chain:"
      cat "$tmp/warmup.$chain.txt" >&2
      exit 1
    }
  done
fi
for ((rep = 1; rep <= repeats; rep++)); do
  for profile in "${profiles[@]}"; do
    for chain in "${chains[@]}"; do
      measure "$chain" "$profile" "${profile_t[$profile]}" "${profile_c[$profile]}" "$rep"
    done
    if [[ "$profile" == c1 ]]; then
      measure direct c1 1 1 "$rep"
    fi
  done
done

# Affinity and memory after the runs, for the report.
affinity=""
for key in "${!group_pids[@]}"; do
  for pid in ${group_pids[$key]}; do
    affinity+="$(taskset -cp "$pid" 2>/dev/null | sed 's/.*: //'),"
  done
done
affinity_set="$(tr ',' '\n' <<<"$affinity" | sed '/^$/d' | sort -u | tr '\n' ' ')"

# ------------------------------------------------------------------ report
report="$tmp/report.md"
{
  echo "# Sidecar chain comparison: nginx vs meshsim"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $ncpu CPUs, $(uname -r);" \
    "$(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}'), OpenSSL $(openssl version | awk '{print $2}')."
  echo "Load average before / after: $load_start / $(cut -d' ' -f1-3 /proc/loadavg)" \
    "(figures are only comparable with the reference on an otherwise idle machine)."
  echo "Pinning (Run A): every chain process on CPU $chain_cpu (affinity read back: ${affinity_set% }), wrk on CPU $wrk_cpu."
  echo "Each figure is the median of $repeats run(s) of ${duration_s}s; the chains are interleaved run by run" \
    "after a ${warmup}s warm-up each. Latency in µs; CPU in µs of utime+stime per completed request."
  echo
  echo "- nginx chain: client sidecar -> mTLS (TLS 1.3, ECDSA P-256, X25519, client certificate required," \
    "leaf + intermediate both ways, pooled keep-alive) -> server sidecar -> nginx backend \`return 200\`;" \
    "one worker each; nginx CPU = master + worker."
  if [[ -n "$mesh_pid" ]]; then
    echo "- meshsim chain: \`meshsim serve -f bench/peers/mesh/chain.yaml --threads 1 --no-admin --no-access-log\`" \
      "(nginx runs with access_log off; Istio metrics stay on): ingress (client" \
      "sidecar) -> mTLS -> backend's sidecar -> backend, all in one process ($meshsim_bin)."
  else
    echo "- **meshsim chain: not measured** — $mesh_status."
  fi
  for profile in "${profiles[@]}"; do
    echo
    echo "## ${profile_title[$profile]}"
    echo
    echo "| chain | requests/s | p50 µs | p90 µs | CPU/req client sidecar | CPU/req server sidecar | CPU/req per sidecar | CPU/req backend | CPU/req whole path | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    p="$profile"
    n_rps="$(med "nginx|$p|rps")"; n_p50="$(med "nginx|$p|p50")"; n_p90="$(med "nginx|$p|p90")"
    n_cli="$(med "nginx|$p|cpu.client")"; n_srv="$(med "nginx|$p|cpu.server")"
    n_be="$(med "nginx|$p|cpu.backend")"; n_path="$(med "nginx|$p|cpu.path")"
    n_side="$(awk -v a="$n_cli" -v b="$n_srv" 'BEGIN {printf "%.2f", (a + b) / 2}')"
    n_err="$(awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s}' <<<"${results[nginx|$p|errors]}")"
    echo "| ${chain_label[nginx]} | $(fmt "$n_rps" 0) | $(fmt "$n_p50" 0) | $(fmt "$n_p90" 0) | $(fmt "$n_cli" 1) | $(fmt "$n_srv" 1) | $(fmt "$n_side" 1) | $(fmt "$n_be" 1) | $(fmt "$n_path" 1) | $n_err |"
    if [[ -n "$mesh_pid" ]]; then
      m_rps="$(med "meshsim|$p|rps")"; m_p50="$(med "meshsim|$p|p50")"; m_p90="$(med "meshsim|$p|p90")"
      m_path="$(med "meshsim|$p|cpu.process")"
      m_side="$(awk -v a="$m_path" 'BEGIN {printf "%.2f", a / 2}')"
      m_err="$(awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s}' <<<"${results[meshsim|$p|errors]}")"
      echo "| meshsim | $(fmt "$m_rps" 0) | $(fmt "$m_p50" 0) | $(fmt "$m_p90" 0) | — (one process) | — (one process) | $(fmt "$m_side" 1) ¹ | incl. ¹ | $(fmt "$m_path" 1) | $m_err |"
      echo "| ratio meshsim/nginx | $(ratio "$m_rps" "$n_rps") | $(ratio "$m_p50" "$n_p50") | $(ratio "$m_p90" "$n_p90") | — | — | $(ratio "$m_side" "$n_side") | — | $(ratio "$m_path" "$n_path") | |"
    else
      echo "| meshsim | n/a — not measured: $mesh_status | | | | | | | | |"
    fi
    if [[ "$p" == c1 ]]; then
      d_p50="$(med "direct|c1|p50")"
      d_p90="$(med "direct|c1|p90")"
      echo
      echo "wrk straight at the nginx backend (no sidecar): p50 $(fmt "$d_p50" 0) µs, p90 $(fmt "$d_p90" 0) µs." \
        "Added p50 per sidecar hop = (chain p50 − that) / 2:" \
        "nginx $(awk -v a="$n_p50" -v b="$d_p50" 'BEGIN {printf "%.0f", (a - b) / 2}') µs$(
          [[ -z "$mesh_pid" ]] || printf ', meshsim %s µs' "$(awk -v a="$m_p50" -v b="$d_p50" 'BEGIN {printf "%.0f", (a - b) / 2}')")" \
        "(reference peers: 34–51 µs; parity target ≤ 50 µs)."
    fi
  done
  echo
  echo "¹ meshsim runs both sidecars and the simulated backend in one process: its \"per sidecar\" figure is the" \
    "whole process's CPU per request divided by the 2 sidecars on the path, so it also carries the backend's" \
    "share. Compare \"whole path\" for like with like (nginx: both sidecars + backend, masters included)."
  echo
  echo "## Memory after the runs (VmRSS)"
  echo
  echo "| process | RSS MiB |"
  echo "|---|---:|"
  for g in client server backend; do
    echo "| nginx $g (master + worker) | $(awk -v k="$(rss_kb_of_group "nginx.$g")" 'BEGIN {printf "%.1f", k / 1024}') |"
  done
  if [[ -n "$mesh_pid" ]]; then
    echo "| meshsim serve (whole process) | $(awk -v k="$(rss_kb_of_group "meshsim.process")" 'BEGIN {printf "%.1f", k / 1024}') |"
  fi
  echo
  echo "## Per-run values"
  echo
  echo "| chain | profile | requests/s | p50 µs | p90 µs | CPU/req whole path |"
  echo "|---|---|---|---|---|---|"
  for chain in "${chains[@]}" direct; do
    for profile in "${profiles[@]}"; do
      [[ -n "${results[$chain|$profile|rps]:-}" ]] || continue
      echo "| $chain | $profile | ${results[$chain|$profile|rps]} | ${results[$chain|$profile|p50]} | ${results[$chain|$profile|p90]} | ${results[$chain|$profile|cpu.path]} |"
    done
  done
} >"$report"

cat "$report"
if [[ -n "$out_file" ]]; then
  cp "$report" "$out_file"
  log "report written to $out_file"
fi
