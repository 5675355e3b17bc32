// Node 20 lacks Promise.withResolvers (Node 22+), which it-queue (under
// libp2p's peer store lock, mortice) calls. Imported first by peer.mjs.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
