// AutobahnJS with clients/js/uri-scramble.js, run by test_scramble.py.
//
// `vector KEY_HEX PUBLIC_PREFIX URI MATCH [URI MATCH ...]`: prints the scrambled forms
// as one JSON list (the cross-language vector).
// `scenario URL SERIALIZER KEY_HEX`: a callee/subscriber and a caller/publisher session
// on SERIALIZER use scrambled URIs only: an exact, a prefix and a wildcard subscription,
// a prefix registration, a call, an application error, and a publish on a readable URI
// the router's scrambled permissions refuse. Prints one JSON line with what it saw.
'use strict';
const path = require('path');
const sodium = require('libsodium-wrappers');
const { createUriScrambler } = require(path.join(__dirname, '..', '..', 'clients', 'js', 'uri-scramble.js'));

const [mode, ...rest] = process.argv.slice(2);

function open(autobahn, url, serializer) {
  const serializers = {
    json: () => new autobahn.serializer.JSONSerializer(),
    msgpack: () => new autobahn.serializer.MsgpackSerializer(),
    cbor: () => new autobahn.serializer.CBORSerializer(),
  };
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ realm: 'realm1', max_retries: 0, url,
                                                 serializers: [serializers[serializer]()] });
    connection.onopen = (session) => resolve({ connection, session });
    connection.onclose = (reason, details) => { reject(new Error(`closed: ${reason} ${JSON.stringify(details)}`)); return true; };
    connection.open();
  });
}

async function scenario(url, serializer, key) {
  const autobahn = require('autobahn');
  const s = createUriScrambler(sodium, key);
  const callee = await open(autobahn, url, serializer);
  const caller = await open(autobahn, url, serializer);
  const result = { events: {} };
  const got = {};
  for (const [name, uri, match] of [['exact', 'com.myapp.js.news.sports', 'exact'],
                                    ['prefix', 'com.myapp.js.news.', 'prefix'],
                                    ['wildcard', 'com.myapp.js..sports', 'wildcard']]) {
    got[name] = new Promise((resolve) => {
      callee.session.subscribe(s.scramble(uri, match), (args, kwargs, details) =>
        resolve({ args, topic: details.topic, readable: s.unscramble(details.topic || s.uri(uri)) }), { match });
    });
  }
  await callee.session.register(s.prefix('com.myapp.js.calc.'), (args, kwargs, details) =>
    ({ sum: args[0] + args[1], procedure: details.procedure }), { match: 'prefix' });
  await callee.session.register(s.uri('com.myapp.js.fail'), () => {
    throw new autobahn.Error(s.uri('com.myapp.js.error.nope'), ['nope']);
  });
  await new Promise((r) => setTimeout(r, 100));
  result.call = await caller.session.call(s.uri('com.myapp.js.calc.add'), [2, 40]);
  try {
    await caller.session.call(s.uri('com.myapp.js.fail'));
  } catch (e) {
    result.error = { uri: e.error, readable: s.unscramble(e.error), args: e.args };
  }
  try {
    await caller.session.publish('com.myapp.js.news.sports', ['readable'], {}, { acknowledge: true });
    result.readable_publish = 'accepted';
  } catch (e) {
    result.readable_publish = e.error;
  }
  await caller.session.publish(s.uri('com.myapp.js.news.sports'), ['hello'], {}, { acknowledge: true });
  for (const name of Object.keys(got)) result.events[name] = await got[name];
  result.scrambled_topic = s.uri('com.myapp.js.news.sports');
  result.scrambled_procedure = s.uri('com.myapp.js.calc.add');
  console.log(JSON.stringify(result));
  callee.connection.close();
  caller.connection.close();
}

sodium.ready.then(async () => {
  if (mode === 'vector') {
    const [key, publicPrefix, ...pairs] = rest;
    const s = createUriScrambler(sodium, key, { public: [publicPrefix] });
    const out = [];
    for (let i = 0; i < pairs.length; i += 2) out.push(s.scramble(pairs[i], pairs[i + 1]));
    console.log(JSON.stringify(out));
  } else {
    await scenario(...rest);
  }
}).catch((e) => { console.error(e); process.exit(1); });
