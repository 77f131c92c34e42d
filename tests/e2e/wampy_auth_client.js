// A wampy 8 (npm "wampy") login, run by test_interop.py: joins realm1 with WAMP-Ticket
// (manual onChallenge answering the ticket) or WAMP-CRA (wampy's own wampcra plugin,
// which derives the key when the challenge is salted). Prints one JSON line: the
// WELCOME details, or the ABORT reason and message.
const { Wampy } = require('wampy');
const { w3cwebsocket } = require('websocket');
const { pathToFileURL } = require('url');

const [url, method, authid, secret] = process.argv.slice(2);

async function main() {
  // wampy ships its WAMP-CRA plugin as an ES module only; import() does not search
  // NODE_PATH, require.resolve does.
  const cra = () => import(pathToFileURL(require.resolve('wampy/wampcra.js')).href);
  const onChallenge = method === 'wampcra' ? (await cra()).sign(secret) : () => secret;
  const session = new Wampy(url, {
    realm: 'realm1', ws: w3cwebsocket, autoReconnect: false, authid, authmethods: [method], onChallenge,
  });
  try {
    const details = await session.connect();
    console.log(JSON.stringify({ joined: true, authid: details.authid, authrole: details.authrole,
                                 authmethod: details.authmethod, authprovider: details.authprovider }));
    await session.disconnect();
  } catch (e) {
    console.log(JSON.stringify({ joined: false, reason: e.errorUri, message: (e.details || {}).message }));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
