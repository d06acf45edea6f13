#!/usr/bin/env bash
# A throwaway multi-node crosspromo on this machine, all under one directory:
#   nginx (load balancer) -> two `crosspromo serve` -> pgbouncer (transaction mode) -> PostgreSQL
#   primary, with a streaming replica for reads; Redis for rate limits and job locks; two
#   `crosspromo worker` sharing the outbox (SKIP LOCKED).
#
#   scripts/cluster.sh start [DIR]      start everything (DIR: var/cluster)
#   scripts/cluster.sh status [DIR]     what runs, and the replica's lag
#   scripts/cluster.sh stop [DIR]       stop everything and delete DIR
#   scripts/cluster.sh kill-app N [DIR] SIGKILL app server N (1 or 2)   | start-app N [DIR]
#   scripts/cluster.sh kill-worker N [DIR]                              | start-worker N [DIR]
#
# Ports (environment): CLUSTER_PORT (nginx, 8080), CLUSTER_BASE (first of the internal ports,
# 18100: apps +1/+2, primary +10, replica +11, pgbouncer +12, redis +13).
# CLUSTER_DEMO=1 loads the demo city. Extra CROSSPROMO_* variables pass through to the apps.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: $0 start|status|stop|kill-app N|start-app N|kill-worker N|start-worker N [DIR]}
case "$action" in
  kill-app|start-app|kill-worker|start-worker) which=${2:?which one, 1 or 2}; dir=${3:-var/cluster} ;;
  *) dir=${2:-var/cluster} ;;
esac
mkdir -p "$dir"
chmod 755 "$dir"  # the database servers and pgbouncer run as `postgres` inside it
dir=$(cd "$dir" && pwd)
port=${CLUSTER_PORT:-8080}
base=${CLUSTER_BASE:-18100}
app1=$((base + 1)); app2=$((base + 2))
pg=$((base + 10)); replica=$((base + 11)); bouncer=$((base + 12)); redis=$((base + 13))
bin=$(pwd)/.venv/bin

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

need() {
  local missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing system packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

app_env() {
  export CROSSPROMO_DATABASE_URL="postgresql://postgres@127.0.0.1:$bouncer/postgres"
  export CROSSPROMO_DATABASE_POOLER=true
  export CROSSPROMO_DATABASE_REPLICA_URL="postgresql://postgres@127.0.0.1:$replica/postgres"
  export CROSSPROMO_REDIS_URL="redis://127.0.0.1:$redis/0"
  export CROSSPROMO_VAR_DIR="$dir/var"  # one install secret for every app server
  export CROSSPROMO_PUBLIC_URL="http://127.0.0.1:$port"
  export CROSSPROMO_DB_POOL_SIZE=${CROSSPROMO_DB_POOL_SIZE:-8}
  export CROSSPROMO_DB_MAX_OVERFLOW=${CROSSPROMO_DB_MAX_OVERFLOW:-4}
}

start_app() {
  local n=$1 p
  p=$([ "$n" = 1 ] && echo $app1 || echo $app2)
  (app_env; exec "$bin/crosspromo" serve --host 127.0.0.1 --port "$p") >>"$dir/app$n.log" 2>&1 &
  echo $! >"$dir/app$n.pid"
}

start_worker() {
  local n=$1
  (app_env; exec "$bin/crosspromo" worker --interval "${CLUSTER_WORKER_INTERVAL:-1}") >>"$dir/worker$n.log" 2>&1 &
  echo $! >"$dir/worker$n.pid"
}

kill_pidfile() {
  local f=$1 signal=${2:-TERM} pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill -"$signal" "$pid" 2>/dev/null || true
  if [ "$signal" != KILL ]; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

wait_http() {
  local url=$1
  for _ in $(seq 900); do  # up to 3 minutes: a loaded 2-core machine starts apps slowly
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "no answer from $url" >&2
  return 1
}

nginx_conf() {
  mkdir -p "$dir/nginx"
  cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  client_max_body_size 64m;
  upstream crosspromo {
    server 127.0.0.1:$app1 max_fails=1 fail_timeout=2s;
    server 127.0.0.1:$app2 max_fails=1 fail_timeout=2s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://crosspromo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      # A server that refuses the connection or dies before answering: try the other one.
      # A request already sent is retried only when its method is idempotent; clients
      # retry writes themselves with their Idempotency-Key.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
      proxy_read_timeout 120s;
    }
  }
}
EOF
}

pgbouncer_conf() {
  mkdir -p "$dir/pgbouncer"
  echo '"postgres" ""' >"$dir/pgbouncer/userlist.txt"
  cat >"$dir/pgbouncer/pgbouncer.ini" <<EOF
[databases]
postgres = host=127.0.0.1 port=$pg dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer
unix_socket_dir = $dir/pgbouncer
auth_type = trust
auth_file = $dir/pgbouncer/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer/pgbouncer.log
pidfile = $dir/pgbouncer/pgbouncer.pid
EOF
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/pgbouncer"
  return 0
}

start() {
  need
  [ -x "$bin/crosspromo" ] || make install >/dev/null
  "$bin/python" -c 'import redis' 2>/dev/null || "$bin/uv" sync --locked --inexact --quiet --extra redis
  [ -f "$dir/app1.pid" ] && { echo "already running in $dir (stop it first)" >&2; exit 1; }
  echo "==> PostgreSQL primary on $pg and a streaming replica on $replica"
  scripts/test-postgres.sh start "$dir/primary" "$pg" >/dev/null
  scripts/test-postgres.sh replica "$dir/replica" "$replica" "$pg" >/dev/null
  echo "==> pgbouncer (transaction pooling) on $bouncer"
  pgbouncer_conf
  as_pg pgbouncer -d -q "$dir/pgbouncer/pgbouncer.ini"
  echo "==> Redis on $redis"
  redis-server --port "$redis" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  echo "==> schema"
  CROSSPROMO_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg/postgres" "$bin/crosspromo" db upgrade >/dev/null
  if [ "${CLUSTER_DEMO:-0}" = 1 ]; then
    echo "==> the demo city"
    (app_env; export CROSSPROMO_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg/postgres" CROSSPROMO_DATABASE_POOLER=false
     "$bin/crosspromo" demo setup --seed "${SEED:-42}" --size "${SIZE:-small}" --url "http://127.0.0.1:$port")
  fi
  echo "==> two app servers on $app1 and $app2, two workers"
  start_app 1; start_app 2; start_worker 1; start_worker 2
  wait_http "http://127.0.0.1:$app1/healthz"
  wait_http "http://127.0.0.1:$app2/healthz"
  echo "==> nginx on $port"
  nginx_conf
  nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" 2>>"$dir/nginx/error.log"
  wait_http "http://127.0.0.1:$port/healthz"
  echo "crosspromo cluster: http://127.0.0.1:$port  (scripts/cluster.sh status|stop; files in $dir)"
}

status() {
  for name in app1 app2 worker1 worker2; do
    if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
      echo "$name: running (pid $(cat "$dir/$name.pid"))"
    else
      echo "$name: stopped"
    fi
  done
  curl -fsS "http://127.0.0.1:$port/healthz" && echo || echo "nginx: no answer on $port"
}

stop() {
  [ -f "$dir/nginx/nginx.pid" ] && nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -s stop 2>/dev/null || true
  for name in app1 app2 worker1 worker2; do kill_pidfile "$dir/$name.pid"; done
  kill_pidfile "$dir/pgbouncer/pgbouncer.pid"
  kill_pidfile "$dir/redis.pid"
  scripts/test-postgres.sh stop "$dir/replica"
  scripts/test-postgres.sh stop "$dir/primary"
  rm -rf "$dir"
}

case "$action" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  kill-app) kill_pidfile "$dir/app$which.pid" KILL ;;
  start-app) start_app "$which"; wait_http "http://127.0.0.1:$([ "$which" = 1 ] && echo $app1 || echo $app2)/healthz" ;;
  kill-worker) kill_pidfile "$dir/worker$which.pid" KILL ;;
  start-worker) start_worker "$which" ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
