#!/usr/bin/env bash
# A local durable cluster on loopback: its store, N silos and a gateway.
#   scripts/cluster.sh start [N] [--storage azure|postgres]
#                                  build, then start the store (Azurite, the default; or PostgreSQL),
#                                  N silos (default 3) and the gateway on :8005
#   scripts/cluster.sh add         start one more silo (the cluster grows: see /health)
#   scripts/cluster.sh restart I   stop silo I (it hands its jobs on; one whose process died is just
#                                  started) and start it again
#   scripts/cluster.sh stop        stop everything started by 'start' and wait until each has exited
#   scripts/cluster.sh status      list what is running
# 'add' and 'restart' use the store the cluster was started with. A silo or gateway asked to stop exits
# within Cluster:ShutdownTimeout (30 s); 'stop' waits 40 s for each (the store 5 s, PostgreSQL 20 s),
# then kills what is left and says so.
# State (pids, logs, the store's data) lives in .cluster/. PostgreSQL is Debian's server (installed
# with apt-get when missing), its data initialized into .cluster/postgres, listening on 127.0.0.1 only.
# Ports: Azurite 10000-10002 unless AZURITE_BASE_PORT is set; PostgreSQL POSTGRES_PORT (default
# 5433); silo i uses 11110+i and 30000+i; the gateway PRAISON_GATEWAY_URL (default http://127.0.0.1:8005).
set -euo pipefail
cd "$(dirname "$0")/.."
state=.cluster
base=${AZURITE_BASE_PORT:-10000}
gateway_url=${PRAISON_GATEWAY_URL:-http://127.0.0.1:8005}
pg_port=${POSTGRES_PORT:-5433}
pg_conn="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$base/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$((base + 1))/devstoreaccount1;TableEndpoint=http://127.0.0.1:$((base + 2))/devstoreaccount1;"

start_bg() { # name, command...
  local name=$1; shift
  nohup "$@" > "$state/$name.log" 2>&1 &
  echo $! > "$state/$name.pid"
  echo "started $name (pid $!, log $state/$name.log)"
}

start_silo() { # index
  local i=$1
  start_bg "silo$i" dotnet silo/bin/Debug/net10.0/Praison.Orleans.Silo.dll \
    --Cluster:SiloPort=$((11110 + i)) --Cluster:GatewayPort=$((30000 + i))
}

stop_process() { # pidfile [signal] [seconds]: TERM (or the signal), wait up to 40 s (or the seconds), then KILL
  local pidfile=$1 signal=${2:-TERM} seconds=${3:-40} name pid
  name=$(basename "$pidfile" .pid)
  pid=$(cat "$pidfile")
  if kill -"$signal" "$pid" 2> /dev/null; then
    for _ in $(seq $((seconds * 2))); do kill -0 "$pid" 2> /dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2> /dev/null; then
      kill -KILL "$pid" 2> /dev/null || true
      echo "killed $name (pid $pid): still running $seconds s after SIG$signal"
    else
      echo "stopped $name"
    fi
  fi
  rm -f "$pidfile"
}

silo_count() { ls "$state"/silo*.pid 2> /dev/null | wc -l; }

storage() { cat "$state/storage" 2> /dev/null || echo azure; }

cluster_env() {
  if [ "$(storage)" = postgres ]; then
    export Cluster__Storage=Postgres ConnectionStrings__Postgres="$pg_conn"
  else
    export Cluster__Storage=Azure ConnectionStrings__AzureStorage="$conn"
  fi
}

# The server refuses to run as root: as root, it runs as the postgres user the package made.
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi

start_postgres() {
  if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null; then
    echo "Installing postgresql (apt-get)..."
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$state/postgres"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$state/postgres"; fi
  if [ ! -e "$state/postgres/data/PG_VERSION" ]; then
    "${as_postgres[@]}" "$bin/initdb" -D "$state/postgres/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 > "$state/initdb.log" 2>&1 || { cat "$state/initdb.log"; exit 1; }
  fi
  start_bg postgres "${as_postgres[@]}" "$bin/postgres" -D "$state/postgres/data" -k "$(pwd)/$state/postgres" \
    -p "$pg_port" -c listen_addresses=127.0.0.1
  wait_for PostgreSQL bash -c "exec 3<>/dev/tcp/127.0.0.1/$pg_port"
}

start_azurite() {
  mkdir -p "$state/azurite"
  [ -x tools/azurite/node_modules/.bin/azurite ] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
  start_bg azurite tools/azurite/node_modules/.bin/azurite --silent --skipApiVersionCheck --loose \
    --location "$state/azurite" --blobHost 127.0.0.1 --blobPort "$base" --queueHost 127.0.0.1 \
    --queuePort $((base + 1)) --tableHost 127.0.0.1 --tablePort $((base + 2))
  wait_for Azurite bash -c "exec 3<>/dev/tcp/127.0.0.1/$((base + 2))"
}

wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 120); do "$@" > /dev/null 2>&1 && return 0; sleep 0.5; done
  echo "timed out waiting for $what" >&2; return 1
}

case "${1:-}" in
  start)
    shift
    silos=3 store=azure
    while [ $# -gt 0 ]; do
      case "$1" in
        --storage) store=${2:?usage: --storage azure|postgres}; shift 2 ;;
        [0-9]*) silos=$1; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
      esac
    done
    case "$store" in azure|postgres) ;; *) echo "--storage is azure or postgres, not '$store'" >&2; exit 2 ;; esac
    mkdir -p "$state"
    echo "$store" > "$state/storage"
    dotnet build Praison.Orleans.sln -v q -nologo > "$state/build.log" 2>&1 || { cat "$state/build.log"; exit 1; }
    if [ "$store" = postgres ]; then start_postgres; else start_azurite; fi
    cluster_env
    for i in $(seq 1 "$silos"); do start_silo "$i"; done
    start_bg gateway dotnet gateway/bin/Debug/net10.0/Praison.Orleans.Gateway.dll \
      --Cluster:Mode=Client --urls "$gateway_url"
    wait_for "all $silos silos to join" bash -c "curl -sf '$gateway_url/health' | grep -q '\"silos\":$silos'"
    curl -s "$gateway_url/health"; echo
    ;;
  add)
    cluster_env
    i=$(( $(silo_count) + 1 ))
    while [ -e "$state/silo$i.pid" ]; do i=$((i + 1)); done
    start_silo "$i"
    n=$(silo_count)
    wait_for "silo $i to join" bash -c "curl -sf '$gateway_url/health' | grep -q '\"silos\":$n'"
    curl -s "$gateway_url/health"; echo
    ;;
  restart)
    i=${2:?usage: scripts/cluster.sh restart I}
    if [ -e "$state/silo$i.pid" ]; then stop_process "$state/silo$i.pid"; fi
    cluster_env
    start_silo "$i"
    ;;
  stop)
    # The gateway first (no new work), then the silos, which hand their jobs on, then storage.
    for name in gateway $(cd "$state" 2> /dev/null && ls silo*.pid 2> /dev/null | sed 's/.pid$//'); do
      [ -e "$state/$name.pid" ] && stop_process "$state/$name.pid"
    done
    # Storage last; Azurite waits for idle connections to close before it exits, so it gets 5 s;
    # PostgreSQL is asked for a fast shutdown (SIGINT: it ends its sessions and checkpoints).
    if [ -e "$state/azurite.pid" ]; then stop_process "$state/azurite.pid" TERM 5; fi
    if [ -e "$state/postgres.pid" ]; then stop_process "$state/postgres.pid" INT 20; fi
    echo "stopped"
    ;;
  status)
    for pidfile in "$state"/*.pid; do
      [ -e "$pidfile" ] || continue
      name=$(basename "$pidfile" .pid)
      if kill -0 "$(cat "$pidfile")" 2> /dev/null; then echo "$name running (pid $(cat "$pidfile"))"; else echo "$name stopped"; fi
    done
    ;;
  *)
    sed -n '2,17p' "$0"; exit 2 ;;
esac
