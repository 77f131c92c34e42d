// A wampy 8 (npm "wampy") client scenario, run by test_interop.py: a callee and
// subscriber session and a caller and publisher session, both on the serializer
// named on the command line, exchange a call, an application error and an event
// through the router. Prints one JSON line with what it saw.
const { Wampy } = require('wampy');
const { JsonSerializer } = require('wampy/JsonSerializer.js');
const { MsgpackSerializer } = require('wampy/MsgpackSerializer.js');
const { CborSerializer } = require('wampy/CborSerializer.js');
const { w3cwebsocket } = require('websocket');

const [url, serializerName] = process.argv.slice(2);
const serializers = { json: JsonSerializer, msgpack: MsgpackSerializer, cbor: CborSerializer };

async function open() {
  const session = new Wampy(url, {
    realm: 'realm1', ws: w3cwebsocket, autoReconnect: false, serializer: new serializers[serializerName](),
  });
  await session.connect();
  return session;
}

// Integers past 2^32 (msgpackr and cbor-x send them as float64), nested
// containers, non-ASCII text and an undefined that the callee's encoder writes.
const payload = { argsList: [1, 2 ** 40, 'ü', { n: [1.5, null, true] }], argsDict: { k: 'v', big: 2 ** 52 } };

async function main() {
  const callee = await open();
  const caller = await open();
  const result = {};
  const gotEvent = new Promise((resolve) => {
    callee.subscribe('com.wampy.topic', (e) => resolve({ args: e.argsList, kwargs: e.argsDict }));
  });
  await callee.register('com.wampy.echo', (inv) => ({ argsList: inv.argsList, argsDict: inv.argsDict }));
  await callee.register('com.wampy.fail', () => {
    const e = new Error('nope');
    e.error = 'com.wampy.error';
    e.argsList = ['nope', 42];
    e.argsDict = { detail: 'ü' };
    throw e;
  });
  await new Promise((r) => setTimeout(r, 100));
  const echoed = await caller.call('com.wampy.echo', payload, { timeout: 5000 });
  result.echo = { args: echoed.argsList, kwargs: echoed.argsDict };
  try {
    await caller.call('com.wampy.fail');
    result.error = null;
  } catch (e) {
    result.error = { uri: e.errorUri, args: e.argsList, kwargs: e.argsDict };
  }
  try {
    await caller.call('com.wampy.nobody');
  } catch (e) {
    result.no_procedure = e.errorUri;
  }
  // exclude carries the caller's own session id: past 2^32, a float64 on the wire.
  await caller.publish('com.wampy.topic', payload, { acknowledge: true, exclude: [caller.getSessionId()] });
  result.event = await gotEvent;
  console.log(JSON.stringify(result));
  await caller.disconnect();
  await callee.disconnect();
}

const timer = setTimeout(() => { console.error('timed out'); process.exit(2); }, 10000);
main().then(() => { clearTimeout(timer); }).catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
