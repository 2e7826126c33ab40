#!/bin/sh
# docker-compose.yml profile "scale": run once by the postgres:15 image at the primary's first start
# (/docker-entrypoint-initdb.d). Lets the streaming replica connect with the replication protocol
# (pg_basebackup -R -X stream), password-checked; scripts/scale-local.ts does the same on loopback (trust).
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
