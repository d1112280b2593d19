#!/usr/bin/env bash
# Runs every test of the solution from a clean clone: installs Azurite (npm, into tools/azurite),
# Chromium and PostgreSQL (apt, when missing),
# restores, builds and tests, then prints one closing line "N passed, N failed, N skipped".
# Pass extra `dotnet test` arguments through, e.g.  scripts/test.sh --filter "Category!=Process"
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The Azure Storage emulator the storage tests start (pinned by tools/azurite/package-lock.json).
if [ ! -x tools/azurite/node_modules/.bin/azurite ]; then
  echo "Installing Azurite into tools/azurite (npm ci)..."
  npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
fi

# From apt when missing: Debian's Chromium for the dashboard's browser tests (Playwright drives it; no
# browser download), and Debian's PostgreSQL server for the PostgreSQL tests (each run starts its own
# on a free loopback port; none is left running).
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null || packages+=(postgresql)
if [ ${#packages[@]} -gt 0 ]; then
  echo "Installing ${packages[*]} (apt-get)..."
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Praison.Orleans.sln --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?

# dotnet test ends each test assembly with "Total tests: N" then "Passed: N", "Failed: N", "Skipped: N".
read -r passed failed skipped < <(awk '
  /^ *Passed: +[0-9]+ *$/  { p += $2 }
  /^ *Failed: +[0-9]+ *$/  { f += $2 }
  /^ *Skipped: +[0-9]+ *$/ { s += $2 }
  END { print p + 0, f + 0, s + 0 }' "$log")
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
