// An AutobahnJS (npm "autobahn") client scenario, run by test_autobahnjs.py:
// a callee/subscriber session and a caller/publisher session, each on the
// serializer named on the command line, exchange a call, an application error and
// an event through the router. Prints one JSON line with what it saw. The router
// is a WebSocket URL, or tcp://HOST:PORT or unix:PATH for AutobahnJS's RawSocket
// transport (Node.js only, JSON only).
const autobahn = require('autobahn');

const [url, calleeSerializer, callerSerializer] = process.argv.slice(2);
const serializers = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer(),
};

function transportOptions(serializer) {
  const tcp = url.match(/^tcp:\/\/([^:]+):(\d+)$/);
  if (tcp) return { transports: [{ type: 'rawsocket', host: tcp[1], port: Number(tcp[2]) }] };
  if (url.startsWith('unix:')) return { transports: [{ type: 'rawsocket', path: url.slice(5) }] };
  return { url, serializers: [serializers[serializer]()] };
}

function open(serializer) {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ realm: 'realm1', max_retries: 0, ...transportOptions(serializer) });
    connection.onopen = (session) => resolve({ connection, session });
    connection.onclose = (reason, details) => { reject(new Error(`closed: ${reason} ${JSON.stringify(details)}`)); return true; };
    connection.open();
  });
}

async function main() {
  const callee = await open(calleeSerializer);
  const caller = await open(callerSerializer);
  const result = {};
  const gotEvent = new Promise((resolve) => {
    callee.session.subscribe('com.js.topic', (args, kwargs) => resolve({ args, kwargs }));
  });
  await callee.session.register('com.js.add', (args) => args[0] + args[1]);
  await callee.session.register('com.js.fail', () => {
    throw new autobahn.Error('com.js.error', ['nope', 42], { detail: 'ü' });
  });
  // Subscriptions and registrations are acknowledged before the caller starts.
  await new Promise((r) => setTimeout(r, 100));
  result.sum = await caller.session.call('com.js.add', [2, 40]);
  try {
    await caller.session.call('com.js.fail');
    result.error = null;
  } catch (e) {
    result.error = { uri: e.error, args: e.args, kwargs: e.kwargs };
  }
  try {
    await caller.session.call('com.js.nobody');
  } catch (e) {
    result.no_procedure = e.error;
  }
  await caller.session.publish('com.js.topic', ['hello', { n: [1, 2] }], { k: 'v' }, { acknowledge: true });
  result.event = await gotEvent;
  result.features = Object.keys(callee.session._router_roles || {});
  console.log(JSON.stringify(result));
  callee.connection.close();
  caller.connection.close();
}

const timer = setTimeout(() => { console.error('timed out'); process.exit(2); }, 10000);
main().then(() => { clearTimeout(timer); }).catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
