// tests/integration/js/kjs.js - kafkajs driver for the Samsa integration suite.
//
// Owns the Node.js side of tests/integration/test_kafkajs.py (whose `member`
// driver test_groups_cluster.py reuses on the 3-broker cluster): one small
// program per client role, selected by the first argument, configured by a
// JSON object in the second, reporting everything it sees as JSON lines on
// stdout (one object per line, "ev" says what it is) so that the Python test
// makes every assertion.  Usage:
//
//   NODE_PATH=<cache>/node_modules node kjs.js produce '{"brokers":[...], ...}'
//
// Commands: produce (keys, headers, acks, gzip, idempotence), consume (group
// consumer that reads an expected number of records), admin (topic/config
// admin scenario), groupadmin (list/describe/offsets/reset/delete a group),
// member (long-running consumer-group member, stopped cleanly by a "stop"
// line on stdin or killed by the test).  Every run ends with a "versions"
// line: the API versions kafkajs actually put on the wire, taken from its
// debug log "Request <Api>(key: k, version: v)".
'use strict'

// Our records name their partition: the default-partitioner notice is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs')

const cmd = process.argv[2]
const spec = JSON.parse(process.argv[3] || '{}')
const versions = {}
let assignHook = null

function out(obj) {
  // stdout is a pipe: synchronous on Linux, so lines are never lost on exit.
  process.stdout.write(JSON.stringify(obj) + '\n')
}

// Exit once stdout is flushed: a full pipe makes Node queue writes, and
// process.exit() would drop them.
function exit(code) {
  process.stdout.write('', () => process.exit(code))
}

function reportVersions() {
  const v = {}
  for (const k of Object.keys(versions).sort()) v[k] = Array.from(versions[k]).sort((a, b) => a - b)
  out({ ev: 'versions', versions: v })
}

const REQ_RE = /^Request (\w+)\(key: (\d+), version: (\d+)\)/

// kafkajs log sink: records negotiated versions, forwards group assignments
// (with their generation, which no public event carries) and prints warnings
// and errors to stderr for the test's failure report.
const logCreator = () => ({ namespace, level, log }) => {
  const m = REQ_RE.exec(log.message)
  if (m) {
    if (!versions[m[1]]) versions[m[1]] = new Set()
    versions[m[1]].add(Number(m[3]))
    return
  }
  if (log.message === 'Received assignment' && assignHook) {
    assignHook(log)
    return
  }
  if (level <= logLevel.WARN) {
    const { message, timestamp, logger, ...rest } = log
    process.stderr.write(`[kafkajs ${namespace}] ${message} ${JSON.stringify(rest)}\n`)
  }
}

function client() {
  return new Kafka({
    clientId: spec.clientId || `samsa-it-kjs-${cmd}`,
    brokers: spec.brokers,
    logLevel: logLevel.DEBUG,
    logCreator,
    connectionTimeout: 10000,
    requestTimeout: 30000,
    retry: { retries: 8, initialRetryTime: 100 },
  })
}

function headersOut(h) {
  const o = {}
  for (const k of Object.keys(h || {})) {
    const v = h[k]
    o[k] = Array.isArray(v) ? v.map(x => x.toString()) : v == null ? null : v.toString()
  }
  return o
}

function msgOut(partition, message, extra) {
  return Object.assign({
    ev: 'msg',
    p: partition,
    o: Number(message.offset),
    k: message.key == null ? null : message.key.toString(),
    v: message.value == null ? null : message.value.toString(),
    h: headersOut(message.headers),
    ts: Number(message.timestamp),
  }, extra || {})
}

// Deterministic record i of a produce run; the Python side rebuilds the same.
function record(i, partitions, prefix) {
  return {
    partition: i % partitions,
    key: `${prefix}k${i}`,
    value: `${prefix}v${i}-` + 'x'.repeat(i % 40),
    headers: { seq: String(i), src: 'kafkajs' },
  }
}

async function produce() {
  const { topic, n, partitions, acks = -1, gzip = false, chunk = 500, prefix = '', idempotent = false } = spec
  const producer = client().producer(Object.assign({ allowAutoTopicCreation: false },
    idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {}))
  await producer.connect()
  const compression = gzip ? CompressionTypes.GZIP : CompressionTypes.None
  for (let s = 0; s < n; s += chunk) {
    const messages = []
    for (let i = s; i < Math.min(n, s + chunk); i++) messages.push(record(i, partitions, prefix))
    const res = await producer.send({ topic, acks, compression, messages })
    for (const r of res) {
      out({ ev: 'sent', first: s, p: r.partition, err: r.errorCode, base: Number(r.baseOffset) })
    }
  }
  await producer.disconnect()
  out({ ev: 'done', n })
}

function withTimeout(promise, ms, what) {
  let t
  return Promise.race([
    promise,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms) }),
  ]).finally(() => clearTimeout(t))
}

async function consume() {
  const { topic, expect, groupId, timeoutMs = 60000 } = spec
  const consumer = client().consumer({
    groupId, maxWaitTimeInMs: 200, sessionTimeout: 10000, heartbeatInterval: 1000,
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  let count = 0
  let finish
  const done = new Promise(resolve => { finish = resolve })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      out(msgOut(partition, message))
      if (++count >= expect) finish()
    },
  })
  try {
    await withTimeout(done, timeoutMs, `${count} of ${expect} messages`)
  } finally {
    await consumer.disconnect()
  }
  out({ ev: 'done', n: count })
}

async function admin() {
  const { topic, topic2 } = spec
  const kafka = client()
  const a = kafka.admin()
  await a.connect()
  const created = await a.createTopics({
    topics: [
      { topic, numPartitions: 3, replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'delete' }] },
      { topic: topic2, numPartitions: 2, replicationFactor: 1 },
    ],
    timeout: 15000,
  })
  out({ ev: 'createTopics', result: created })
  // A second create of an existing topic is not an error for kafkajs: false.
  out({ ev: 'createTopicsAgain', result: await a.createTopics({ topics: [{ topic: topic2, numPartitions: 2 }] }) })
  out({ ev: 'listTopics', topics: (await a.listTopics()).sort() })
  const md = await a.fetchTopicMetadata({ topics: [topic, topic2] })
  out({ ev: 'metadata', topics: md.topics.map(t => ({
    name: t.name,
    partitions: t.partitions.map(p => ({
      id: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, err: p.partitionErrorCode,
    })).sort((x, y) => x.id - y.id),
  })) })

  // Give the partitions different end offsets: 5 records to p0 (timestamps
  // TS0 + i s), 3 to p1 (now), none to p2.
  const TS0 = 1700000000000
  const producer = kafka.producer()
  await producer.connect()
  const msgs = []
  for (let i = 0; i < 5; i++) msgs.push({ partition: 0, value: `a${i}`, timestamp: String(TS0 + i * 1000) })
  for (let i = 0; i < 3; i++) msgs.push({ partition: 1, value: `b${i}` })
  await producer.send({ topic, acks: -1, messages: msgs })
  await producer.disconnect()
  const offs = await a.fetchTopicOffsets(topic)
  const offsOut = o => o.map(x => ({ p: x.partition, offset: x.offset, high: x.high, low: x.low }))
    .sort((x, y) => x.p - y.p)
  out({ ev: 'offsets', partitions: offsOut(offs) })
  const byTs = await a.fetchTopicOffsetsByTimestamp(topic, TS0 + 3000)
  out({ ev: 'offsetsByTimestamp', partitions: byTs.map(x => ({ p: x.partition, offset: x.offset })).sort((x, y) => x.p - y.p) })
  await a.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] })
  out({ ev: 'offsetsAfterDeleteRecords', partitions: offsOut(await a.fetchTopicOffsets(topic)) })

  // AlterConfigs replaces the topic's whole override set (not incremental).
  await a.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
    configEntries: [{ name: 'retention.ms', value: '7200000' }, { name: 'segment.bytes', value: '1048576' }] }] })

  const cfg = await a.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'cleanup.policy', 'segment.bytes'] }],
    includeSynonyms: false,
  })
  out({ ev: 'configs', resources: cfg.resources.map(r => ({
    err: r.errorCode, type: r.resourceType, name: r.resourceName,
    entries: r.configEntries.map(e => ({ name: e.configName, value: e.configValue, isDefault: e.isDefault, readOnly: e.readOnly }))
      .sort((x, y) => (x.name < y.name ? -1 : 1)),
  })) })

  await a.createPartitions({ topicPartitions: [{ topic: topic2, count: 3 }], timeout: 15000 })
  let grown = 0
  for (let i = 0; i < 100 && grown !== 3; i++) {
    const m = await a.fetchTopicMetadata({ topics: [topic2] })
    grown = m.topics[0].partitions.filter(p => p.leader >= 0).length
    if (grown !== 3) await new Promise(r => setTimeout(r, 100))
  }
  out({ ev: 'createPartitions', partitions: grown })

  await a.deleteTopics({ topics: [topic, topic2], timeout: 15000 })
  // Deletion is asynchronous in Kafka; wait until Metadata no longer lists them.
  let left = null
  for (let i = 0; i < 100; i++) {
    left = (await a.listTopics()).filter(t => t === topic || t === topic2)
    if (left.length === 0) break
    await new Promise(r => setTimeout(r, 100))
  }
  out({ ev: 'deleted', remaining: left })
  await a.disconnect()
  out({ ev: 'done' })
}

// Group administration of a group without members: list, describe, fetch
// its committed offsets, rewind them to the beginning, delete it.
async function groupadmin() {
  const { topic, groupId } = spec
  const a = client().admin()
  await a.connect()
  const { groups } = await a.listGroups()
  out({ ev: 'listGroups', groups: groups.map(g => ({ id: g.groupId, type: g.protocolType })) })
  const d = await a.describeGroups([groupId])
  out({ ev: 'describeGroups', groups: d.groups.map(g => ({
    id: g.groupId, err: g.errorCode, state: g.state, protocolType: g.protocolType, members: g.members.length,
  })) })
  const offs = async () => (await a.fetchOffsets({ groupId, topics: [topic] }))[0].partitions
    .map(p => ({ p: p.partition, o: Number(p.offset) })).sort((x, y) => x.p - y.p)
  out({ ev: 'fetchOffsets', partitions: await offs() })
  await a.resetOffsets({ groupId, topic, earliest: true })
  out({ ev: 'afterReset', partitions: await offs() })
  await a.deleteGroups([groupId])
  out({ ev: 'afterDelete', groups: (await a.listGroups()).groups.map(g => g.groupId) })
  await a.disconnect()
  out({ ev: 'done' })
}

async function member() {
  const { topic, groupId, sessionTimeout = 6000, heartbeatInterval = 500 } = spec
  const consumer = client().consumer({
    groupId, sessionTimeout, rebalanceTimeout: 15000, heartbeatInterval, maxWaitTimeInMs: 200,
  })
  let gen = null
  assignHook = log => {
    gen = log.generationId
    const a = log.memberAssignment || {}
    out({ ev: 'assign', gen, member: log.memberId, parts: (a[topic] || []).slice().sort((x, y) => x - y), t: Date.now() })
  }
  consumer.on(consumer.events.GROUP_JOIN, e => out({ ev: 'join', member: e.payload.memberId, leader: e.payload.isLeader, t: Date.now() }))
  consumer.on(consumer.events.REBALANCING, () => out({ ev: 'rebalancing', t: Date.now() }))
  consumer.on(consumer.events.COMMIT_OFFSETS, e => {
    for (const t of e.payload.topics) {
      for (const p of t.partitions) out({ ev: 'commit', gen: e.payload.groupGenerationId, p: Number(p.partition), o: Number(p.offset), t: Date.now() })
    }
  })
  consumer.on(consumer.events.CRASH, e => out({ ev: 'crash', error: String(e.payload.error && e.payload.error.message), restart: e.payload.restart, t: Date.now() }))

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await consumer.disconnect()
    out({ ev: 'stopped' })
    reportVersions()
    exit(0)
  }
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', d => { if (d.includes('stop')) stop() })
  process.stdin.on('end', () => stop())

  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ partition, message }) => { out(msgOut(partition, message, { gen, t: Date.now() })) },
  })
  out({ ev: 'running' })
}

const commands = { produce, consume, admin, groupadmin, member }

if (!commands[cmd]) {
  process.stderr.write(`usage: kjs.js ${Object.keys(commands).join('|')} '<json spec>'\n`)
  process.exit(2)
}

commands[cmd]().then(() => {
  if (cmd !== 'member') {
    reportVersions()
    exit(0)
  }
}).catch(e => {
  out({ ev: 'error', error: String(e && e.stack || e) })
  reportVersions()
  exit(1)
})
