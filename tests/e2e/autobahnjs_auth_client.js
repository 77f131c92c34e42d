// An AutobahnJS (npm "autobahn") login, run by test_autobahnjs.py: joins realm1 with
// one authentication method and answers its CHALLENGE as AutobahnJS users do
// (auth_cra.derive_key / auth_cra.sign for WAMP-CRA). Prints one JSON line: the
// WELCOME identity, or the ABORT reason and message.
const autobahn = require('autobahn');

const [url, method, authid, secret] = process.argv.slice(2);

function onchallenge(session, challengeMethod, extra) {
  if (challengeMethod === 'ticket') return secret;
  let key = secret;
  if (extra.salt) key = autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen);
  return autobahn.auth_cra.sign(key, extra.challenge);
}

const connection = new autobahn.Connection({
  url, realm: 'realm1', max_retries: 0, authmethods: [method], authid, onchallenge,
});
let joined = false;
const timer = setTimeout(() => { console.error('timed out'); process.exit(2); }, 10000);
connection.onopen = (session, details) => {
  joined = true;
  const { authid: id, authrole, authmethod, authprovider } = details;
  console.log(JSON.stringify({ joined: { authid: id, authrole, authmethod, authprovider } }));
  clearTimeout(timer);
  connection.close();
};
connection.onclose = (reason, details) => {
  if (!joined && details && details.reason) {
    console.log(JSON.stringify({ refused: [details.reason, details.message] }));
    clearTimeout(timer);
  }
  return true;
};
connection.open();
