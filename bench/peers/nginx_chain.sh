#!/usr/bin/env bash
# Builds the peer chain of /work/shared/reference/performance.md from Debian's nginx:
#
#   client --HTTP/1.1--> nginx #1 (client sidecar, 127.0.0.1:BASE)
#          --mTLS, TLS 1.3, ECDSA P-256, X25519, pooled keep-alive--> nginx #2 (server sidecar,
#          127.0.0.1:BASE+1, client certificate required) --HTTP/1.1 keep-alive-->
#          nginx #3 (backend, 127.0.0.1:BASE+2, `return 200 "ok"`)
#
# Each nginx runs one worker process. Certificates (root CA -> intermediate -> ECDSA P-256 leaves
# carrying SPIFFE URI SANs) are generated with the openssl CLI in a temporary directory; each side
# sends leaf + intermediate and trusts only the root. Everything lives in that directory, which is
# removed on exit, and every process started here is stopped on exit.
#
# Once the chain answers end to end, one line is printed on stdout:
#   ready: url=http://127.0.0.1:BASE/ client=MASTER,WORKER server=MASTER,WORKER backend=MASTER,WORKER dir=DIR
# and the script waits until SIGINT/SIGTERM (or the -T lifetime) and then tears the chain down.
# Pin the whole chain to one core by starting this script under `taskset -c 0` (affinity is
# inherited by every nginx process).
set -euo pipefail

readonly kSelf="${0##*/}"

usage() {
  cat <<EOF
Usage: $kSelf [-p BASE_PORT] [-T LIFETIME_S] [-w READY_TIMEOUT_S] [-k] [-h]

Starts the nginx client sidecar -> mTLS -> server sidecar -> backend chain on 127.0.0.1 and keeps
it running until interrupted (SIGINT/SIGTERM) or until LIFETIME_S seconds have passed.

  -p BASE_PORT   client sidecar listens on BASE_PORT, server sidecar on BASE_PORT+1, backend on
                 BASE_PORT+2 (default 18080); the ports must be free
  -T LIFETIME_S  stop by itself after this many seconds (default 3600)
  -w TIMEOUT_S   how long to wait for the chain to answer before giving up (default 20)
  -k             keep the temporary directory (certificates, configs, error logs) on exit
  -h             this help

Prints "ready: url=... client=MASTER,WORKER server=MASTER,WORKER backend=MASTER,WORKER dir=..."
on stdout once a request through the whole chain returned 200 and the mTLS checks passed
(client certificate required: a TLS client without one gets 400; TLS 1.3 with X25519 negotiated).
Diagnostics go to stderr.
EOF
}

base_port=18080
lifetime=3600
ready_timeout=20
keep_dir=0
while getopts ":p:T:w:kh" opt; do
  case "$opt" in
    p) base_port="$OPTARG" ;;
    T) lifetime="$OPTARG" ;;
    w) ready_timeout="$OPTARG" ;;
    k) keep_dir=1 ;;
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
for v in base_port lifetime ready_timeout; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
    echo "$kSelf: $v must be a non-negative integer, got '${!v}'" >&2
    exit 2
  fi
done
if ((base_port < 1024 || base_port > 65533)); then
  echo "$kSelf: BASE_PORT must be in 1024..65533" >&2
  exit 2
fi

for tool in nginx openssl curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$kSelf: '$tool' not found (apt-get install nginx-light openssl curl)" >&2
    exit 1
  fi
done
NGINX_BIN="$(command -v nginx)"
readonly NGINX_BIN

readonly port_client=$base_port
readonly port_server=$((base_port + 1))
readonly port_backend=$((base_port + 2))
readonly host=127.0.0.1

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/nginx_chain.XXXXXX")"
readonly work_dir
master_pids=()
sleep_pid=""

cleanup() {
  local pid
  trap - EXIT INT TERM
  if [[ -n "$sleep_pid" ]]; then kill "$sleep_pid" 2>/dev/null || true; fi
  for pid in "${master_pids[@]}"; do
    # QUIT = graceful stop of the master and its worker; fall back to KILL below.
    kill -QUIT "$pid" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 5))
  for pid in "${master_pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if ((keep_dir)); then
    echo "$kSelf: kept $work_dir" >&2
  else
    rm -rf "$work_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() {  # port -> 0 when something accepts connections on 127.0.0.1:port
  (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}
for p in "$port_client" "$port_server" "$port_backend"; do
  if port_in_use "$p"; then
    echo "$kSelf: port $host:$p is already in use (choose another -p BASE_PORT)" >&2
    exit 1
  fi
done

# ------------------------------------------------------------------ certificates
pki="$work_dir/pki"
mkdir -p "$pki"

ossl() {  # openssl with its chatter on failure only
  local out
  if ! out="$(openssl "$@" 2>&1)"; then
    echo "$kSelf: openssl $1 failed:" >&2
    echo "$out" >&2
    exit 1
  fi
}

new_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

cat >"$pki/ext.cnf" <<'EOF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = critical, URI:spiffe://cluster.local/ns/bench/sa/client
authorityKeyIdentifier = keyid:always

[backend]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = critical, URI:spiffe://cluster.local/ns/bench/sa/backend
authorityKeyIdentifier = keyid:always
EOF

new_key "$pki/root.key"
ossl req -new -key "$pki/root.key" -subj "/O=meshsim-bench/CN=bench root CA" -out "$pki/root.csr"
ossl x509 -req -in "$pki/root.csr" -signkey "$pki/root.key" -sha256 -days 2 \
  -extfile "$pki/ext.cnf" -extensions root -out "$pki/root.pem"

new_key "$pki/intermediate.key"
ossl req -new -key "$pki/intermediate.key" -subj "/O=meshsim-bench/CN=bench intermediate CA" \
  -out "$pki/intermediate.csr"
ossl x509 -req -in "$pki/intermediate.csr" -CA "$pki/root.pem" -CAkey "$pki/root.key" \
  -CAcreateserial -sha256 -days 2 -extfile "$pki/ext.cnf" -extensions intermediate \
  -out "$pki/intermediate.pem"

# The leaves carry only the SPIFFE URI SAN (like Istio's). nginx cannot match URI SANs, so the
# client sidecar checks the server's name against the subject CN (OpenSSL falls back to the CN
# when the certificate has no DNS SAN); the chain itself is verified against the root both ways.
readonly backend_name="backend.bench.svc.cluster.local"
for leaf in client backend; do
  cn="$leaf.bench.svc.cluster.local"
  new_key "$pki/$leaf.key"
  ossl req -new -key "$pki/$leaf.key" -subj "/O=meshsim-bench/CN=$cn" -out "$pki/$leaf.csr"
  ossl x509 -req -in "$pki/$leaf.csr" -CA "$pki/intermediate.pem" -CAkey "$pki/intermediate.key" \
    -CAcreateserial -sha256 -days 2 -extfile "$pki/ext.cnf" -extensions "$leaf" \
    -out "$pki/$leaf.pem"
  # What each side presents: leaf + intermediate.
  cat "$pki/$leaf.pem" "$pki/intermediate.pem" >"$pki/$leaf.chain.pem"
  ossl verify -CAfile "$pki/root.pem" -untrusted "$pki/intermediate.pem" "$pki/$leaf.pem"
done
rm -f "$pki"/*.csr

# ------------------------------------------------------------------ nginx configs
# Common part: one worker, no access log, private temp paths, long-lived keep-alive everywhere
# (nginx closes a keep-alive connection after 1000 requests by default, which would add
# handshakes to the measurement).
user_line=""
if ((EUID == 0)); then
  # Workers keep root's identity so that they can reach the private 0700 work directory.
  user_line="user root root;"
fi

write_conf() {  # name http_body
  local name="$1" body="$2" dir="$work_dir/$1"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
  worker_connections 4096;
  multi_accept on;
}
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
$body
}
EOF
}

write_conf backend "
  server {
    listen $host:$port_backend reuseport;
    location / {
      default_type text/plain;
      return 200 \"ok\";
    }
  }"

write_conf server "
  upstream backend_app {
    server $host:$port_backend;
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen $host:$port_server ssl;
    ssl_certificate $pki/backend.chain.pem;
    ssl_certificate_key $pki/backend.key;
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519;
    ssl_verify_client on;
    ssl_client_certificate $pki/root.pem;
    ssl_verify_depth 3;
    ssl_session_cache shared:srv:1m;
    location / {
      proxy_pass http://backend_app;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header X-Forwarded-Client-Cert \$ssl_client_s_dn;
    }
  }"

write_conf client "
  upstream server_sidecar {
    server $host:$port_server;
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen $host:$port_client;
    location / {
      proxy_pass https://server_sidecar;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_ssl_certificate $pki/client.chain.pem;
      proxy_ssl_certificate_key $pki/client.key;
      proxy_ssl_trusted_certificate $pki/root.pem;
      proxy_ssl_verify on;
      proxy_ssl_verify_depth 3;
      proxy_ssl_name $backend_name;
      proxy_ssl_server_name on;
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_conf_command Groups X25519;
      proxy_ssl_session_reuse on;
    }
  }"

# ------------------------------------------------------------------ start
declare -A master_of worker_of
start_nginx() {  # name
  local name="$1" dir="$work_dir/$1"
  if ! "$NGINX_BIN" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" 2>"$dir/test.log"; then
    echo "$kSelf: nginx config '$name' rejected:" >&2
    cat "$dir/test.log" >&2
    exit 1
  fi
  "$NGINX_BIN" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null >"$dir/stdout.log" 2>&1 &
  master_pids+=("$!")
  master_of[$name]=$!
}

# Backend first, then the server sidecar, then the client sidecar.
start_nginx backend
start_nginx server
start_nginx client

deadline=$((SECONDS + ready_timeout))
wait_worker() {  # name -> sets worker_of[name] once the master has forked its worker
  local name="$1" pid="${master_of[$1]}" w
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$kSelf: nginx '$name' exited during start-up:" >&2
      cat "$work_dir/$name/error.log" "$work_dir/$name/stdout.log" >&2 2>/dev/null || true
      exit 1
    fi
    w="$(pgrep -P "$pid" | head -n 1 || true)"
    if [[ -n "$w" ]]; then
      worker_of[$name]=$w
      return 0
    fi
    sleep 0.05
  done
  echo "$kSelf: nginx '$name' did not start a worker within ${ready_timeout}s" >&2
  exit 1
}
wait_listen() {  # port
  while ((SECONDS < deadline)); do
    if port_in_use "$1"; then return 0; fi
    sleep 0.05
  done
  echo "$kSelf: nothing listens on $host:$1 after ${ready_timeout}s" >&2
  exit 1
}
for name in backend server client; do wait_worker "$name"; done
for p in "$port_backend" "$port_server" "$port_client"; do wait_listen "$p"; done

# ------------------------------------------------------------------ self-checks
# 1. End to end through both sidecars.
body="$(curl -sS --max-time 5 -H "Host: $backend_name" "http://$host:$port_client/" 2>&1)" || {
  echo "$kSelf: request through the chain failed: $body" >&2
  cat "$work_dir/client/error.log" "$work_dir/server/error.log" >&2 2>/dev/null || true
  exit 1
}
if [[ "$body" != "ok" ]]; then
  echo "$kSelf: unexpected answer through the chain: '$body'" >&2
  cat "$work_dir/client/error.log" "$work_dir/server/error.log" >&2 2>/dev/null || true
  exit 1
fi
# 2. The server sidecar refuses a TLS client without a certificate (nginx answers 400), and
#    negotiates TLS 1.3 + X25519 and sends leaf + intermediate.
probe() {  # extra s_client args...
  printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$backend_name" |
    timeout 5 openssl s_client -connect "$host:$port_server" -servername "$backend_name" \
      -CAfile "$pki/root.pem" -verify_return_error -showcerts -ign_eof "$@" 2>&1 || true
}
no_cert="$(probe)"
if ! grep -q 'HTTP/1.1 400 ' <<<"$no_cert"; then
  echo "$kSelf: server sidecar did not refuse a client without certificate:" >&2
  echo "$no_cert" >&2
  exit 1
fi
with_cert="$(probe -cert "$pki/client.pem" -key "$pki/client.key" -cert_chain "$pki/intermediate.pem")"
check() {  # regex description
  if ! grep -Eq "$1" <<<"$with_cert"; then
    echo "$kSelf: mTLS self-check failed: $2" >&2
    echo "$with_cert" >&2
    exit 1
  fi
}
check 'HTTP/1.1 200 ' "no 200 with a client certificate"
check 'TLSv1\.3' "TLS 1.3 not negotiated"
check 'X25519' "X25519 not negotiated"
check '^ 1 s:.*intermediate' "server did not send its intermediate"
check 'Verify return code: 0 ' "server chain did not verify against the root"

echo "$kSelf: mTLS checks passed (TLS 1.3, X25519, ECDSA P-256, client certificate required," \
  "leaf + intermediate sent)" >&2
echo "ready: url=http://$host:$port_client/" \
  "client=${master_of[client]},${worker_of[client]}" \
  "server=${master_of[server]},${worker_of[server]}" \
  "backend=${master_of[backend]},${worker_of[backend]}" \
  "dir=$work_dir"

# ------------------------------------------------------------------ serve
# Wait (bounded by the lifetime) for a signal or for an nginx to die.
end=$((SECONDS + lifetime))
while ((SECONDS < end)); do
  for name in backend server client; do
    if ! kill -0 "${master_of[$name]}" 2>/dev/null; then
      echo "$kSelf: nginx '$name' exited unexpectedly" >&2
      cat "$work_dir/$name/error.log" >&2 2>/dev/null || true
      exit 1
    fi
  done
  # `sleep & wait` so that a signal interrupts the wait at once.
  sleep 1 &
  sleep_pid=$!
  wait "$sleep_pid" || true
  sleep_pid=""
done
echo "$kSelf: lifetime of ${lifetime}s reached, stopping" >&2
