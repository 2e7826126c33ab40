#!/usr/bin/env bash
# A local Mosquitto 2 for the gateway's external-broker mode (docs/scale.md "Running it by hand"):
# renders deploy/mosquitto/{mosquitto.conf,acl} into DIR, makes a test CA + broker certificate with openssl (once),
# starts /usr/sbin/mosquitto in the background and prints the PINGW_BROKER_* settings for `npm start`.
#
#   scripts/mosquitto-dev.sh [DIR] [DEVICE_PORT] [BACKEND_PORT]     (defaults: ./data-mosquitto 8883 8884)
#   kill "$(cat DIR/mosquitto.pid)"                                  (stops it)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mkdir -p "${1:-./data-mosquitto}" && cd "${1:-./data-mosquitto}" && pwd)"
device_port="${2:-8883}"
backend_port="${3:-8884}"
user="$(id -un)"
[ "$(id -u)" = 0 ] && user=root # Mosquitto drops root privileges to this user: keep root where the files are root's

cd "$dir"
if [ ! -f broker-cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca-cert.pem \
    -days 825 -subj "/CN=pingw dev broker CA" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker-key.pem -out broker.csr \
    -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > broker.ext
  openssl x509 -req -in broker.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -out broker-cert.pem \
    -days 825 -extfile broker.ext 2>/dev/null
fi
render() {
  sed -e "s#{{DIR}}#$dir#g" -e "s#{{USER}}#$user#g" -e "s#{{CERT_FILE}}#$dir/broker-cert.pem#g" \
    -e "s#{{KEY_FILE}}#$dir/broker-key.pem#g" -e "s#{{DEVICE_CERT_FILE}}#$dir/broker-cert.pem#g" \
    -e "s#{{DEVICE_KEY_FILE}}#$dir/broker-key.pem#g" -e "s#{{DEVICE_PORT}}#$device_port#g" -e "s#{{DEVICE_HOST}}#0.0.0.0#g" \
    -e "s#{{BACKEND_PORT}}#$backend_port#g" -e "s#{{BACKEND_HOST}}#127.0.0.1#g" -e "s#{{GATEWAY_USER}}#pingw@gateway#g" "$1"
}
render "$here/deploy/mosquitto/mosquitto.conf" > mosquitto.conf
render "$here/deploy/mosquitto/acl" > acl
[ -f passwd ] || install -m 0600 /dev/null passwd # the gateway fills it in (PINGW_BROKER_PASSWORD_FILE)
: > mosquitto.log
/usr/sbin/mosquitto -c mosquitto.conf -d
for _ in $(seq 1 100); do [ -s mosquitto.pid ] && break; sleep 0.05; done
[ -s mosquitto.pid ] || { echo "mosquitto did not start:" >&2; cat mosquitto.log >&2; exit 1; }
cat <<EOF
mosquitto running (pid $(cat mosquitto.pid)); devices: mqtts://localhost:$device_port, gateway: mqtts://localhost:$backend_port
  PINGW_BROKER_URL=mqtts://localhost:$backend_port PINGW_BROKER_CA_FILE=$dir/ca-cert.pem \\
  PINGW_BROKER_PASSWORD_FILE=$dir/passwd PINGW_BROKER_PID_FILE=$dir/mosquitto.pid npm start
devices: --mqtt mqtts://127.0.0.1:$device_port --broker-host localhost --ca $dir/ca-cert.pem
stop:    kill \$(cat $dir/mosquitto.pid)
EOF
