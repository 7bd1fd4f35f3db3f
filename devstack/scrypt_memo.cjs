// Loaded into the dev stack's Medusa with `node --require` unless DEVSTACK_SCRYPT_MEMO=0
// (devstack/stack.py; the benchmarks turn it off to measure Medusa as shipped).
//
// Medusa checks a secret API key by deriving it with crypto.scrypt at Node's defaults on
// every admin request: ~80 ms of CPU each, measured here against ~7-14 ms for the same request
// with a session token, so on this 2-core machine it was most of the test suite's server
// time. scrypt is a pure function of its inputs, so answering a repeated call from memory
// changes no answer: the key's database row (and so its revocation) is still read on every
// request, a wrong key still derives something else and gets a 401. Inputs are remembered
// only as a SHA-256 digest, never as the key itself.
"use strict";

const crypto = require("node:crypto");

const LIMIT = 256;
const original = crypto.scrypt;
const memo = new Map();

function digest(password, salt, keylen, options) {
  const hash = crypto.createHash("sha256");
  for (const part of [password, salt]) {
    const bytes = Buffer.from(part);
    hash.update(String(bytes.length)).update(":").update(bytes);
  }
  hash.update(JSON.stringify([keylen, options ?? null]));
  return hash.digest("hex");
}

function remember(key, derived) {
  if (memo.size >= LIMIT) {
    memo.delete(memo.keys().next().value);
  }
  memo.set(key, Buffer.from(derived));
}

crypto.scrypt = function scrypt(password, salt, keylen, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = undefined;
  }
  let key;
  try {
    key = digest(password, salt, keylen, options);
  } catch {
    key = undefined; // an input Buffer.from cannot take: let scrypt itself say why
  }
  const known = key && memo.get(key);
  if (known) {
    process.nextTick(callback, null, Buffer.from(known));
    return;
  }
  const done = (error, derived) => {
    if (!error && key) {
      remember(key, derived);
    }
    callback(error, derived);
  };
  if (options === undefined) {
    original.call(crypto, password, salt, keylen, done);
  } else {
    original.call(crypto, password, salt, keylen, options, done);
  }
};

process.stderr.write("devstack: scrypt memo loaded\n");
