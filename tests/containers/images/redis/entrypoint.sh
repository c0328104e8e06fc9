#!/bin/sh
# As the official image: `redis-server ...` serves other containers (it is reached only over
# the compose network) and keeps its data in /data.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server --protected-mode no --dir /data "$@"
fi
exec "$@"
