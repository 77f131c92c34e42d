// An AutobahnJS (npm "autobahn") presence watcher, run by test_autobahnjs.py: one
// session subscribes to wamp.session.on_join and on_leave, a second joins and leaves,
// and the watcher prints one JSON line with what the two events carried.
const autobahn = require('autobahn');

const [url] = process.argv.slice(2);

function open() {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ realm: 'realm1', url, max_retries: 0 });
    connection.onopen = (session) => resolve({ connection, session });
    connection.onclose = (reason) => { reject(new Error(`closed: ${reason}`)); return true; };
    connection.open();
  });
}

function within(ms, promise, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what}`)), ms))]);
}

async function main() {
  const watcher = await open();
  let joined;
  let left;
  const gotJoin = new Promise((resolve) => { joined = resolve; });
  const gotLeave = new Promise((resolve) => { left = resolve; });
  await watcher.session.subscribe('wamp.session.on_join', (args) => joined(args));
  await watcher.session.subscribe('wamp.session.on_leave', (args) => left(args));
  const visitor = await open();
  const visitorId = visitor.session.id;
  const joinArgs = await within(3000, gotJoin, 'on_join');
  visitor.connection.onclose = () => true;
  visitor.connection.close();
  const leaveArgs = await within(3000, gotLeave, 'on_leave');
  console.log(JSON.stringify({ visitor: visitorId, join: joinArgs, leave: leaveArgs }));
  watcher.connection.onclose = () => true;
  watcher.connection.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
