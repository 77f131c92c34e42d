// Client-side URI scrambling for AutobahnJS: the same scrambled URIs as
// clients/python/wamp_uri_scramble.py for the same key (README.md, "URI scrambling").
//
// Each URI component becomes libsodium's generic hash (BLAKE2b) keyed with the
// application's scrambling key, over "<position>:<component>", its first 10 bytes in
// lowercase hex. Component-wise and fixed-length, so prefix and wildcard subscriptions
// and registrations keep working; URIs under a `keep` prefix (default "wamp.") stay as
// they are, and so do the components of a `public` prefix.
//
//   const sodium = require('libsodium-wrappers');
//   await sodium.ready;
//   const scrambler = createUriScrambler(sodium, keyHex);
//   session.subscribe(scrambler.prefix('com.example.'), onEvent, { match: 'prefix' });
'use strict';

const HASH_BYTES = 10;
// crypto_generichash's output floor; the first HASH_BYTES of it are kept.
const DIGEST_BYTES = 16;
const KEY_BYTES = 32;

function createUriScrambler(sodium, key, { keep = ['wamp.'], public: publicPrefixes = [] } = {}) {
  const keyBytes = typeof key === 'string' ? sodium.from_hex(key) : key;
  if (keyBytes.length !== KEY_BYTES) throw new Error(`the scrambling key must be ${KEY_BYTES} bytes`);
  for (const prefix of publicPrefixes) {
    if (!prefix.endsWith('.')) throw new Error(`public prefix ${prefix} must end with '.'`);
  }
  const plain = new Map(); // "<position>:<scrambled>" -> component

  function component(position, text) {
    const digest = sodium.crypto_generichash(DIGEST_BYTES, sodium.from_string(`${position}:${text}`), keyBytes);
    const hashed = sodium.to_hex(digest.subarray(0, HASH_BYTES));
    plain.set(`${position}:${hashed}`, text);
    return hashed;
  }

  function scramble(uri, match = 'exact') {
    if (keep.some((prefix) => uri.startsWith(prefix))) return uri;
    const pub = publicPrefixes.find((prefix) => uri.startsWith(prefix));
    const readable = pub ? pub.split('.').length - 1 : 0;
    const parts = uri.split('.');
    return parts.map((text, position) => {
      if (position < readable) return text;
      if (text === '' && (match === 'wildcard' || (match === 'prefix' && position === parts.length - 1))) return text;
      if (text === '') throw new Error(`empty component in ${match} URI ${uri}`);
      return component(position, text);
    }).join('.');
  }

  return {
    scramble,
    uri: (uri) => scramble(uri, 'exact'),
    prefix: (prefix) => scramble(prefix, 'prefix'),
    wildcard: (pattern) => scramble(pattern, 'wildcard'),
    unscramble: (uri) => uri.split('.').map((text, i) => plain.get(`${i}:${text}`) ?? text).join('.'),
  };
}

module.exports = { createUriScrambler, HASH_BYTES, KEY_BYTES };
