// A js-libp2p gossipsub peer that joins Vigil's inspector network
// (docs/decisions/0008-gossip-network.md), for the interop test
// node/tests/it/interop_js.rs.
//
//   node peer.mjs --bootstrap /ip4/127.0.0.1/tcp/P/p2p/<peer id> --chain-id N
//                 [--publish-tx 0xRAW] [--bad-length] [--junk N] [--listen-ms MS]
//                 [--timeout-ms MS]
//
// Dials the bootstrap node, subscribes to the seven topics
// vigil/<chain>/{tx,vote,cert,evidence,batch,batchvote,batchcert}/1 and prints one JSON line per event
// on stdout:
//   {"event":"started","peer":…}              our own peer id
//   {"event":"connected","peer":…}            a connection to a peer opened
//   {"event":"ready","topic":…,"peers":[…]}   a Vigil node subscribed to the tx
//                                             topic is in our tx mesh
//   {"event":"message","topic":…,"bytes":N,"from":…,"id":…}
//                                             a message (id = sha256(data), hex)
//   {"event":"published","topic":…,"kind":"tx"|"junk","bytes":N,"id":…,"recipients":N}
//   {"event":"publish_failed","topic":…,"kind":…,"error":…}
//   {"event":"disconnected","peer":…}         the last connection to a peer closed
//   {"event":"done"}                          before a clean exit
// Once ready it publishes --publish-tx as a TxAnnouncement on the tx topic
// (0x01, u32 big-endian length, the raw EIP-2718 bytes: docs/protocol.md;
// --bad-length writes the length little-endian, a malformed announcement),
// then --junk N invalid messages on the vote topic (150 bytes, the size of a
// vote, random and each different, with an unknown version byte), then
// listens for --listen-ms and exits 0. Exits 1 if not ready within
// --timeout-ms.
//
// Gossipsub settings match vigil-net: messages signed and checked strictly
// (StrictSign), message id = sha256(data).
import './node20.mjs' // before libp2p: Promise.withResolvers on Node 20

import { createHash, randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const VOTE_SIZE = 1 + 8 + 8 + 32 + 1 + 4 + 96 // vigil_types::Vote::ENCODED_LEN

const { values: opts } = parseArgs({
  options: {
    bootstrap: { type: 'string' },
    'chain-id': { type: 'string' },
    'publish-tx': { type: 'string' },
    'bad-length': { type: 'boolean', default: false },
    junk: { type: 'string', default: '0' },
    'listen-ms': { type: 'string', default: '5000' },
    'timeout-ms': { type: 'string', default: '30000' },
  },
  strict: true,
})
if (!opts.bootstrap || !opts['chain-id']) {
  console.error('usage: node peer.mjs --bootstrap /ip4/…/tcp/…/p2p/<id> --chain-id N [--publish-tx 0xRAW] [--bad-length] [--junk N] [--listen-ms MS]')
  process.exit(2)
}
const chainId = BigInt(opts['chain-id'])
const junk = Number.parseInt(opts.junk, 10)
const listenMs = Number.parseInt(opts['listen-ms'], 10)
const timeoutMs = Number.parseInt(opts['timeout-ms'], 10)
const bootstrap = multiaddr(opts.bootstrap)
const bootstrapPeer = bootstrap.getPeerId()
if (!bootstrapPeer) {
  console.error('--bootstrap needs a /p2p/<peer id> suffix')
  process.exit(2)
}

const topic = (kind) => `vigil/${chainId}/${kind}/1`
const TOPICS = ['tx', 'vote', 'cert', 'evidence', 'batch', 'batchvote', 'batchcert'].map(topic)
const TX_TOPIC = topic('tx')
const VOTE_TOPIC = topic('vote')

const sha256 = (data) => createHash('sha256').update(data).digest()
const hex = (bytes) => Buffer.from(bytes).toString('hex')
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** `vigil_types::gossip::TxAnnouncement` in its Wire encoding. */
function txAnnouncement(raw, badLength) {
  const out = Buffer.alloc(1 + 4 + raw.length)
  out[0] = 0x01
  if (badLength) out.writeUInt32LE(raw.length, 1)
  else out.writeUInt32BE(raw.length, 1)
  raw.copy(out, 5)
  return out
}

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    pubsub: gossipsub({
      globalSignaturePolicy: 'StrictSign',
      msgIdFn: (msg) => sha256(msg.data),
      allowPublishToZeroTopicPeers: false,
      emitSelf: false,
      fallbackToFloodsub: false,
      heartbeatInterval: 1000,
    }),
  },
})
const pubsub = node.services.pubsub

emit({ event: 'started', peer: node.peerId.toString() })
node.addEventListener('peer:connect', (e) => emit({ event: 'connected', peer: e.detail.toString() }))
node.addEventListener('peer:disconnect', (e) => emit({ event: 'disconnected', peer: e.detail.toString() }))
pubsub.addEventListener('message', (e) => {
  const m = e.detail
  emit({
    event: 'message',
    topic: m.topic,
    bytes: m.data.length,
    from: m.type === 'signed' ? m.from.toString() : null,
    id: hex(sha256(m.data)),
  })
})

for (const t of TOPICS) pubsub.subscribe(t)
const deadline = Date.now() + timeoutMs
for (;;) {
  try {
    await node.dial(bootstrap)
    break
  } catch (e) {
    if (Date.now() > deadline) {
      emit({ event: 'timeout', waiting_for: 'dial', error: String(e?.message ?? e) })
      await node.stop()
      process.exit(1)
    }
    await sleep(200)
  }
}

// Ready when a peer is in our tx-topic mesh (it is subscribed and grafted),
// so what we publish reaches it and it forwards to us.
for (;;) {
  const mesh = pubsub.getMeshPeers(TX_TOPIC)
  if (mesh.length > 0) {
    emit({ event: 'ready', topic: TX_TOPIC, peers: mesh })
    break
  }
  if (Date.now() > deadline) {
    emit({ event: 'timeout', waiting_for: 'tx mesh', subscribers: pubsub.getSubscribers(TX_TOPIC).map(String) })
    await node.stop()
    process.exit(1)
  }
  await sleep(100)
}

async function publish(t, kind, data) {
  try {
    const r = await pubsub.publish(t, data)
    emit({ event: 'published', topic: t, kind, bytes: data.length, id: hex(sha256(data)), recipients: r.recipients.length })
  } catch (e) {
    emit({ event: 'publish_failed', topic: t, kind, error: String(e?.message ?? e) })
  }
}

if (opts['publish-tx']) {
  const raw = Buffer.from(opts['publish-tx'].replace(/^0x/, ''), 'hex')
  await publish(TX_TOPIC, 'tx', txAnnouncement(raw, opts['bad-length']))
}
for (let i = 0; i < junk; i++) {
  const data = randomBytes(VOTE_SIZE)
  data[0] = 0xee // no such version: malformed whatever follows
  await publish(VOTE_TOPIC, 'junk', data)
  await sleep(20)
}

await sleep(listenMs)
emit({ event: 'done' })
await node.stop()
process.exit(0)
