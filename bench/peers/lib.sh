# shellcheck shell=bash
# Helpers shared by compare.sh and startup.sh. Sourced, never run; the caller sets kSelf (its
# name, for messages) before sourcing.

log() { echo "${kSelf:?set kSelf before sourcing lib.sh}: $*" >&2; }

stop_pid() {  # pid [timeout_s, default 10]: TERM, wait up to timeout_s, then KILL
  local pid="$1" limit="${2:-10}"
  local deadline=$((SECONDS + limit))
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.02; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for $limit s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

median_of() {  # digits values... -> median (mean of the middle two for an even count); nan if none
  local digits="$1"
  shift
  printf '%s\n' "$@" | sort -g | awk -v d="$digits" '{v[NR] = $1} END {
    if (NR == 0) { print "nan"; exit }
    f = "%." d "f"
    if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
