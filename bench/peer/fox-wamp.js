// Starts fox-wamp (npm, installed by bench/run --peer fox-wamp) on 127.0.0.1:PORT as
// the bench's peer router: WebSocket, wamp.2.json, any path, realms made on demand.
const FoxRouter = require('fox-wamp')

const port = Number(process.argv[2])
const router = new FoxRouter()
router.listenWAMP({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
