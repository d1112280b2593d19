#!/usr/bin/env bash
# A local durable cluster on loopback: Azurite, N silos and a gateway, all in Azure storage mode.
#   scripts/cluster.sh start [N]   build, then start Azurite, N silos (default 3) and the gateway on :8005
#   scripts/cluster.sh add         start one more silo (the cluster grows: see /health)
#   scripts/cluster.sh restart I   stop silo I (it hands its jobs on) and start it again
#   scripts/cluster.sh stop        stop everything started by 'start' and wait until each has exited
#   scripts/cluster.sh status      list what is running
# A silo or gateway asked to stop exits within Cluster:ShutdownTimeout (30 s); 'stop' waits 40 s for
# each (Azurite 5 s), then kills what is left and says so.
# State (pids, logs, Azurite's data) lives in .cluster/. Ports: Azurite 10000-10002 unless
# AZURITE_BASE_PORT is set; silo i uses 11110+i and 30000+i; the gateway PRAISON_GATEWAY_URL
# (default http://127.0.0.1:8005).
set -euo pipefail
cd "$(dirname "$0")/.."
state=.cluster
base=${AZURITE_BASE_PORT:-10000}
gateway_url=${PRAISON_GATEWAY_URL:-http://127.0.0.1:8005}
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

cluster_env() {
  export Cluster__Storage=Azure ConnectionStrings__AzureStorage="$conn"
}

wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 120); do "$@" > /dev/null 2>&1 && return 0; sleep 0.5; done
  echo "timed out waiting for $what" >&2; return 1
}

case "${1:-}" in
  start)
    silos=${2:-3}
    mkdir -p "$state/azurite"
    [ -x tools/azurite/node_modules/.bin/azurite ] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
    dotnet build Praison.Orleans.sln -v q -nologo > "$state/build.log" 2>&1 || { cat "$state/build.log"; exit 1; }
    start_bg azurite tools/azurite/node_modules/.bin/azurite --silent --skipApiVersionCheck --loose \
      --location "$state/azurite" --blobHost 127.0.0.1 --blobPort "$base" --queueHost 127.0.0.1 \
      --queuePort $((base + 1)) --tableHost 127.0.0.1 --tablePort $((base + 2))
    wait_for Azurite bash -c "exec 3<>/dev/tcp/127.0.0.1/$((base + 2))"
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
    [ -e "$state/silo$i.pid" ] && stop_process "$state/silo$i.pid"
    cluster_env
    start_silo "$i"
    ;;
  stop)
    # The gateway first (no new work), then the silos, which hand their jobs on, then storage.
    for name in gateway $(cd "$state" 2> /dev/null && ls silo*.pid 2> /dev/null | sed 's/.pid$//'); do
      [ -e "$state/$name.pid" ] && stop_process "$state/$name.pid"
    done
    # Storage last; Azurite waits for idle connections to close before it exits, so it gets 5 s.
    [ -e "$state/azurite.pid" ] && stop_process "$state/azurite.pid" TERM 5
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
    sed -n '2,12p' "$0"; exit 2 ;;
esac
