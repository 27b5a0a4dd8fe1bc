#!/usr/bin/env bash
# Generates DEVELOPMENT-ONLY keys and certificates for the Exchange gateway.
# NEVER use any of these files in production.
#
# Usage (from any directory):  bash certs-dev/generate.sh
# Overwrites every file it produces. Requires only openssl (3.x).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

PARTICIPANTS=(acme globex initech audit-co ops)
CA_DAYS=3650
LEAF_DAYS=825

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

umask 022

# EC P-256 private key in unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
gen_ec_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1"
}

# sign_leaf <csr> <extfile> <out.crt>
sign_leaf() {
  openssl x509 -req -in "$1" -CA ca.crt -CAkey ca.key \
    -CAserial "$TMP/ca.srl" -CAcreateserial \
    -days "$LEAF_DAYS" -sha256 -extfile "$2" -out "$3"
}

# ---------------------------------------------------------------- CA
echo ">> CA"
gen_ec_key ca.key
cat > "$TMP/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt             = no
x509_extensions    = v3_ca

[dn]
CN = Exchange Dev CA
O  = Exchange Dev

[v3_ca]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
CNF
openssl req -new -x509 -config "$TMP/ca.cnf" -key ca.key -sha256 -days "$CA_DAYS" -out ca.crt

# ---------------------------------------------------------------- server
echo ">> server (localhost)"
gen_ec_key server.key
openssl req -new -key server.key -subj "/CN=localhost/O=Exchange Dev" -out "$TMP/server.csr"
cat > "$TMP/server.ext" <<'EXT'
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid,issuer
EXT
sign_leaf "$TMP/server.csr" "$TMP/server.ext" server.crt

# ---------------------------------------------------------------- clients
mkdir -p clients
cat > "$TMP/client.ext" <<'EXT'
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid,issuer
EXT
for p in "${PARTICIPANTS[@]}"; do
  echo ">> client $p"
  gen_ec_key "clients/$p.key"
  openssl req -new -key "clients/$p.key" -subj "/CN=$p/O=Exchange Dev" -out "$TMP/$p.csr"
  sign_leaf "$TMP/$p.csr" "$TMP/client.ext" "clients/$p.crt"
done

# ---------------------------------------------------------------- JWT signing (ES256)
echo ">> jwt-signing (ES256 / P-256)"
gen_ec_key jwt-signing.key
openssl pkey -in jwt-signing.key -pubout -out jwt-signing.pub

# ---------------------------------------------------------------- audit checkpoint signing (Ed25519)
echo ">> audit-signing (Ed25519)"
openssl genpkey -algorithm ed25519 -out audit-signing.key
openssl pkey -in audit-signing.key -pubout -out audit-signing.pub

# Remove any stray serial / CSR files that older runs may have left behind.
rm -f ./*.srl ./*.csr ./*.ext clients/*.srl clients/*.csr

echo ">> verify"
openssl verify -CAfile ca.crt server.crt clients/*.crt
echo "Done. DEVELOPMENT ONLY - do not use in production."
