#!/usr/bin/env node
// An independent verifier of an Exchange audit log, written from RFC 9162 (Merkle tree hashing,
// inclusion and consistency proofs) and the C2SP signed-note / tlog-checkpoint specs only. It
// shares no code with the C# SDK: if both accept a log, the format is what the specs say.
//
// usage: node outside-verifier.cjs <host:port> <ca.pem> <bearer token>
// prints a JSON summary; exit code 0 when everything verifies, 1 otherwise.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [address, caFile, token] = process.argv.slice(2);
const protoRoot = path.join(__dirname, '..', 'protos');
const definition = protoLoader.loadSync(path.join(protoRoot, 'exchange/v1/audit.proto'), {
  includeDirs: [protoRoot], longs: String, enums: String, defaults: true,
});
const exchange = grpc.loadPackageDefinition(definition).exchange.v1;
const credentials = grpc.credentials.combineChannelCredentials(
  grpc.credentials.createSsl(fs.readFileSync(caFile)),
  grpc.credentials.createFromMetadataGenerator((_, done) => {
    const md = new grpc.Metadata();
    md.add('authorization', `Bearer ${token}`);
    done(null, md);
  }));
const audit = new exchange.AuditService(address, credentials);
const call = (method, request) => new Promise((resolve, reject) =>
  audit[method](request, (err, res) => (err ? reject(err) : resolve(res))));

const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (leaf) => sha256(Buffer.from([0]), leaf);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

// RFC 9162 2.1.1: MTH by its recursive definition.
function mth(hashes) {
  if (hashes.length === 0) return sha256(Buffer.alloc(0));
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

// RFC 9162 2.1.3.2.
function verifyInclusion(index, size, hash, proof, root) {
  if (index >= size) return false;
  let fn = BigInt(index), sn = BigInt(size) - 1n, r = hash;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}

// RFC 9162 2.1.4.2.
function verifyConsistency(first, second, proof, firstRoot, secondRoot) {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = BigInt(first) - 1n, sn = BigInt(second) - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr); sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && fr.equals(firstRoot) && sr.equals(secondRoot);
}

// C2SP signed-note: verifier key "name+hex(keyid)+base64(0x01 || pubkey)", key id =
// SHA-256(name || 0x0A || 0x01 || pubkey)[:4], signature lines "— name base64(keyid || sig)".
function verifyNote(note, vkey) {
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  const [name, keyIdHex, keyB64] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  const key = Buffer.from(keyB64, 'base64');
  if (key[0] !== 1 || key.length !== 33) throw new Error('not an Ed25519 verifier key');
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.from([0x0a]), key).subarray(0, 4);
  if (keyId.toString('hex') !== keyIdHex) throw new Error('verifier key id does not match');
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const publicKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  const signed = note.slice(split + 2).split('\n').filter(Boolean).some((line) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== name) return false;
    const blob = Buffer.from(m[2], 'base64');
    return blob.subarray(0, 4).equals(keyId) && crypto.verify(null, Buffer.from(text, 'utf8'), publicKey, blob.subarray(4));
  });
  if (!signed) throw new Error('checkpoint signature does not verify');
  const lines = text.split('\n');
  return { origin: lines[0], size: Number(lines[1]), root: Buffer.from(lines[2], 'base64') };
}

(async () => {
  const { checkpoint } = await call('GetCheckpoint', {});
  const cp = verifyNote(checkpoint.note, checkpoint.verifierKey);
  const hashes = [];
  let pageToken = '';
  do {
    const page = await call('ListAuditEvents', { pageSize: 1000, pageToken });
    for (const e of page.events) if (Number(e.index) < cp.size) hashes[Number(e.index)] = leafHash(e.leaf);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const rootMatches = hashes.length === cp.size && mth(hashes).equals(cp.root);

  let inclusionOk = 0;
  for (let i = 0; i < cp.size; i++) {
    const proof = await call('GetInclusionProof', { index: i, treeSize: cp.size });
    if (verifyInclusion(i, cp.size, hashes[i], proof.hashes, cp.root)) inclusionOk++;
  }
  let consistencyOk = 0, consistencyChecked = 0;
  for (let first = 1; first < cp.size; first++) {
    const proof = await call('GetConsistencyProof', { firstTreeSize: first, secondTreeSize: cp.size });
    consistencyChecked++;
    if (verifyConsistency(first, cp.size, proof.hashes, mth(hashes.slice(0, first)), cp.root)) consistencyOk++;
  }
  const ok = rootMatches && inclusionOk === cp.size && consistencyOk === consistencyChecked;
  console.log(JSON.stringify({ ok, origin: cp.origin, size: cp.size, rootMatches, inclusionOk, consistencyOk, consistencyChecked }));
  process.exit(ok ? 0 : 1);
})().catch((err) => { console.error(String(err && err.message || err)); process.exit(1); });
