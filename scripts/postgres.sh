#!/usr/bin/env bash
# A throwaway PostgreSQL server for the engine tests: prints its DSN on stdout, everything else on stderr.
#
#   scripts/postgres.sh          start (or reuse) the server and print the DSN
#   scripts/postgres.sh stop     stop it and remove its data folder
#
# Idempotent: a second call finds the running server and prints the same DSN. Installs Debian's `postgresql`
# package when no server binaries are found and we are root; runs the server as the `postgres` user when root
# (PostgreSQL refuses to run as root), on 127.0.0.1 and a free port, with trust auth (local tests only).
# ICPKIT_PG_DIR chooses the folder (default: $TMPDIR/icpkit-pg-$UID).
set -euo pipefail

DIR="${ICPKIT_PG_DIR:-${TMPDIR:-/tmp}/icpkit-pg-$(id -u)}"
DATA="$DIR/data"
PORT_FILE="$DIR/port"
LOG="$DIR/server.log"

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local b
  for b in /usr/lib/postgresql/*/bin; do
    [ -x "$b/initdb" ] && { echo "$b"; return 0; }
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "installing postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN="$(find_bin)"
  else
    log "no PostgreSQL server binaries found (install the postgresql package)"
    exit 1
  fi
fi

# As root, every server command runs as the postgres user.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

dsn() { echo "postgresql://postgres@127.0.0.1:$(cat "$PORT_FILE")/postgres"; }

if [ "${1:-start}" = "stop" ]; then
  if [ -d "$DATA" ]; then as_owner "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true; fi
  rm -rf "$DIR"
  exit 0
fi

if [ -f "$PORT_FILE" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  dsn
  exit 0
fi

free_port() {
  local p
  for p in $(seq 54329 54429); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

rm -rf "$DIR"
mkdir -p "$DIR"
chmod 755 "$DIR"
[ "$(id -u)" = "0" ] && { id postgres >/dev/null 2>&1 || true; as_owner true; chown postgres "$DIR"; }
PORT="$(free_port)"
log "initialising a cluster in $DATA on port $PORT"
as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >&2 \
  || { cat "$LOG" >&2; exit 1; }
echo "$PORT" >"$PORT_FILE"
dsn
