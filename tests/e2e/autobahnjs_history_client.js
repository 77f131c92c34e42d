// An AutobahnJS visit of Crossbar's event-history example page (crossbar-examples
// event-history/web/index.html), run by test_retention.py: the page publishes its
// counter on com.example.oncounter with exclude_me false, subscribes to the topic and
// asks wamp.subscription.get_events for 20 events of the subscription's history. Here
// the visit publishes COUNT events (and the last one retained), waits for them, and
// prints one JSON line: the history's first args, the live events seen, and whether
// a second subscription with get_retained got the retained event flagged as such.
const autobahn = require('autobahn');

const [url, count] = process.argv.slice(2);
const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });

connection.onopen = async (session) => {
  const live = [];
  const sub = await session.subscribe('com.example.oncounter', (args) => live.push(args[0]), { match: 'exact' });
  for (let counter = 0; counter < Number(count); counter += 1) {
    const retain = counter === Number(count) - 1;
    await session.publish('com.example.oncounter', [counter], null, { exclude_me: false, acknowledge: true, retain });
  }
  while (live.length < Number(count)) await new Promise((r) => setTimeout(r, 20));
  const history = await session.call('wamp.subscription.get_events', [sub.id, 20]);
  const seenLive = live.slice();  // the retained event below reaches this handler too (one subscription)
  const retained = await new Promise((resolve) => {
    session.subscribe('com.example.oncounter', (args, kwargs, details) => resolve(details.retained === true),
      { get_retained: true });
    setTimeout(() => resolve(false), 1000);
  });
  console.log(JSON.stringify({ history: history.map((e) => e.args[0]), live: seenLive, retained }));
  connection.close();
};
connection.onclose = (reason) => {
  if (reason !== 'closed') { console.error(`closed: ${reason}`); process.exit(1); }
  return true;
};
connection.open();
