'use strict';
// ioredis against a Redis-compatible server, over RESP2 and RESP3:
// node ioredis.js PORT [HOST]. Flushes the server: test servers only.
// Exits 1 listing every failed check.

const Redis = require('ioredis');
const { assert, target, watchdog, binaryValue, NOT_INTEGER, runChecks, parseClientInfo, parseInfo } = require('./lib');

const { host, port } = target();
watchdog(120000);

/** A connected client that neither retries commands nor reconnects. */
async function connect(protocol, extra = {}) {
  const client = new Redis({
    host,
    port,
    protocol,
    connectTimeout: 5000,
    commandTimeout: 20000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
    ...extra,
  });
  client.on('error', (err) => {
    console.error(`FAIL client error event: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  });
  await client.connect();
  return client;
}

/** Collects every key a scanStream yields. */
function scanAll(client, opts) {
  return new Promise((resolve, reject) => {
    const seen = new Set();
    client.scanStream(opts)
      .on('data', (keys) => keys.forEach((k) => seen.add(k)))
      .on('error', reject)
      .on('end', () => resolve(seen));
  });
}

/** Turns a flat [k, v, ...] reply (or an object) into an object. */
function pairs(reply) {
  if (!Array.isArray(reply)) return { ...reply };
  const o = {};
  for (let i = 0; i + 1 < reply.length; i += 2) o[reply[i]] = reply[i + 1];
  return o;
}

function checks(protocol) {
  let r;
  // Each check starts on an empty server (once connect has made r).
  const c = (name, fn) => [`resp=${protocol} ${name}`, async () => {
    if (r) await r.flushall();
    await fn();
  }];
  return [
    c('connect', async () => {
      r = await connect(protocol);
      // ioredis falls back to RESP2 silently when HELLO 3 fails: make sure
      // the protocol asked for is the one in use.
      const info = parseClientInfo(await r.client('INFO'));
      assert.equal(info.resp, String(protocol), 'negotiated protocol (CLIENT INFO resp=)');
      assert.equal(await r.ping(), 'PONG');
      assert.equal(await r.echo('a b'), 'a b');
    }),
    c('strings', async () => {
      assert.equal(await r.set('io:a', 'hello'), 'OK');
      assert.equal(await r.get('io:a'), 'hello');
      assert.equal(await r.get('io:missing'), null);
      assert.equal(await r.set('io:a', 'x', 'NX'), null, 'SET NX on an existing key');
      assert.equal(await r.set('io:a', 'hello!', 'GET'), 'hello', 'SET GET');
      assert.equal(await r.append('io:a', '?'), 7);
      assert.equal(await r.strlen('io:a'), 7);
      assert.equal(await r.getrange('io:a', 0, 2), 'hel');
      assert.equal(await r.mset({ 'io:m1': '1', 'io:m2': '2' }), 'OK');
      assert.deepEqual(await r.mget('io:m1', 'io:missing', 'io:m2'), ['1', null, '2']);
      assert.equal(await r.msetnx('io:m1', 'x', 'io:m3', 'y'), 0);
      assert.equal(await r.incr('io:n'), 1);
      assert.equal(await r.incrby('io:n', 41), 42);
      assert.equal(await r.decr('io:n'), 41);
      assert.equal(Number(await r.incrbyfloat('io:f', 1.5)), 1.5);
      assert.equal(await r.exists('io:m1', 'io:m2', 'io:missing'), 2);
      assert.equal(await r.type('io:m1'), 'string');
      assert.equal(await r.del('io:m1', 'io:missing'), 1);
      assert.equal(await r.getdel('io:m2'), '2');
      await assert.rejects(r.incr('io:a'), (e) => e.message === NOT_INTEGER, 'INCR on a string');
      assert.equal(await r.get('io:n'), '41', 'GET after an error');
    }),
    c('expire', async () => {
      await r.set('io:e', 'v');
      assert.equal(await r.ttl('io:e'), -1);
      assert.equal(await r.ttl('io:missing'), -2);
      assert.equal(await r.expire('io:e', 100), 1);
      const ttl = await r.ttl('io:e');
      assert.ok(ttl > 90 && ttl <= 100, `TTL after EXPIRE 100: ${ttl}`);
      const pttl = await r.pttl('io:e');
      assert.ok(pttl > 90000 && pttl <= 100000, `PTTL after EXPIRE 100: ${pttl}`);
      assert.equal(await r.persist('io:e'), 1);
      assert.equal(await r.ttl('io:e'), -1);
      assert.equal(await r.set('io:e2', 'v', 'EX', 50), 'OK');
      const t2 = await r.ttl('io:e2');
      assert.ok(t2 > 40 && t2 <= 50, `TTL after SET EX 50: ${t2}`);
      assert.equal(await r.setex('io:e3', 20, 'v'), 'OK');
      assert.equal(await r.pexpire('io:e3', 5000), 1);
    }),
    c('pipeline', async () => {
      const n = 250; // 1000 commands in one pipeline
      const p = r.pipeline();
      for (let i = 0; i < n; i++) {
        p.set(`io:p:${i}`, `v${i}`).get(`io:p:${i}`).incr('io:p:ctr').mget(`io:p:${i}`, 'io:p:missing');
      }
      const res = await p.exec();
      assert.equal(res.length, 4 * n);
      for (let i = 0; i < n; i++) {
        assert.deepEqual(res[4 * i], [null, 'OK']);
        assert.deepEqual(res[4 * i + 1], [null, `v${i}`]);
        assert.deepEqual(res[4 * i + 2], [null, i + 1]);
        assert.deepEqual(res[4 * i + 3], [null, [`v${i}`, null]]);
      }
      const bad = await r.pipeline().set('io:p:s', 'abc').incr('io:p:s').get('io:p:s').exec();
      assert.equal(bad[1][0] && bad[1][0].message, NOT_INTEGER, 'INCR on a string in a pipeline');
      assert.deepEqual(bad[2], [null, 'abc']);
    }),
    c('concurrency', async () => {
      // 50 concurrent tasks share one connection; a second client with
      // enableAutoPipelining batches them per tick.
      const auto = await connect(protocol, { enableAutoPipelining: true });
      await Promise.all(Array.from({ length: 50 }, async (_, w) => {
        const cl = w % 2 ? auto : r;
        for (let i = 0; i < 20; i++) {
          const k = `io:c:${w}:${i}`;
          assert.equal(await cl.set(k, `${w}/${i}`), 'OK');
          assert.equal(await cl.get(k), `${w}/${i}`);
          assert.equal(await cl.incr(`io:c:${w}:ctr`), i + 1);
        }
      }));
      assert.equal(await r.dbsize(), 50 * 21);
      auto.disconnect();
    }),
    c('scan', async () => {
      const p = r.pipeline();
      for (let i = 0; i < 500; i++) p.set(`io:s:${String(i).padStart(3, '0')}`, String(i));
      p.set('io:other', '1');
      await p.exec();
      assert.equal((await scanAll(r, { match: 'io:s:*', count: 17 })).size, 500, 'SCAN MATCH io:s:*');
      assert.equal((await scanAll(r, { count: 100 })).size, 501, 'SCAN all');
      assert.equal((await scanAll(r, { count: 100, type: 'string' })).size, 501, 'SCAN TYPE string');
      assert.equal((await scanAll(r, { match: 'io:s:0[0-4]?', count: 50 })).size, 50, 'SCAN MATCH class');
      assert.equal((await r.keys('io:s:4*')).length, 100, 'KEYS');
      assert.equal(await r.dbsize(), 501);
    }),
    c('binary', async () => {
      const bin = binaryValue();
      const key = Buffer.from('io:b:\x00\r\n\xff', 'latin1');
      assert.equal(await r.set(key, bin), 'OK');
      assert.ok(bin.equals(await r.getBuffer(key)), 'GET binary');
      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 8)) & 0xff;
      await r.set('io:b:big', big);
      const got = await r.mgetBuffer('io:b:big', key, 'io:missing');
      assert.ok(big.equals(got[0]) && bin.equals(got[1]) && got[2] === null, 'MGET binary');
      assert.equal(await r.strlen('io:b:big'), 1 << 20);
    }),
    c('info-config', async () => {
      await r.mset({ 'io:i:a': '1', 'io:i:b': '2', 'io:i:c': '3' });
      await r.expire('io:i:a', 3600);
      const info = parseInfo(await r.info());
      assert.match(info.server.redis_version, /^7\./);
      assert.equal(info.server.redis_mode, 'standalone');
      assert.equal(info.server.tcp_port, String(port), 'INFO tcp_port');
      assert.match(info.keyspace.db0, /^keys=3,expires=1,avg_ttl=\d+$/);
      assert.deepEqual(Object.keys(parseInfo(await r.info('keyspace'))), ['keyspace']);
      assert.deepEqual(pairs(await r.config('GET', 'databases')), { databases: '16' });
      assert.deepEqual(pairs(await r.config('GET', 'port')), { port: String(port) }, 'CONFIG GET port');
      const mm = pairs(await r.config('GET', 'maxmemory*'));
      assert.ok('maxmemory' in mm && 'maxmemory-policy' in mm, JSON.stringify(mm));
      assert.deepEqual(pairs(await r.config('GET', 'no-such-directive')), {});
      assert.equal(await r.config('SET', 'hz', '20'), 'OK');
      assert.deepEqual(pairs(await r.config('GET', 'hz')), { hz: '20' });
      await r.config('SET', 'hz', '10');
      if (protocol === 3) {
        // replyMapping 'resp3' hands RESP3 maps over as objects.
        const m = await connect(3, { replyMapping: 'resp3' });
        assert.deepEqual({ ...(await m.config('GET', 'databases')) }, { databases: '16' }, 'CONFIG GET as a RESP3 map');
        const hello = await m.hello(3);
        assert.equal(hello.proto, 3);
        assert.equal(hello.mode, 'standalone');
        m.disconnect();
      }
    }),
    c('client-name', async () => {
      assert.equal(await r.client('SETNAME', 'io-conn'), 'OK');
      assert.equal(await r.client('GETNAME'), 'io-conn');
      const info = parseClientInfo(await r.client('INFO'));
      assert.equal(info.name, 'io-conn');
      assert.equal(String(await r.client('ID')), info.id);
      await assert.rejects(r.client('SETNAME', 'has space'),
        (e) => e.message === 'ERR Client names cannot contain spaces, newlines or special characters.');
      const named = await connect(protocol, { connectionName: 'io-opt' });
      assert.equal(await named.client('GETNAME'), 'io-opt', 'connectionName option');
      const names = String(await r.client('LIST')).trim().split('\n').map((l) => parseClientInfo(l).name);
      assert.ok(names.includes('io-conn') && names.includes('io-opt'), names.join(','));
      named.disconnect();
    }),
    c('database-3', async () => {
      const r3 = await connect(protocol, { db: 3 });
      for (let i = 0; i < 8; i++) await r3.set(`io:d:${i}`, String(i));
      assert.equal(await r3.dbsize(), 8);
      assert.equal(await r.dbsize(), 0);
      assert.equal(parseClientInfo(await r3.client('INFO')).db, '3');
      assert.equal(await r3.select(4), 'OK');
      assert.equal(await r3.dbsize(), 0, 'DBSIZE after SELECT 4');
      assert.equal(await r.swapdb(0, 3), 'OK');
      assert.equal(await r.dbsize(), 8, 'DBSIZE db 0 after SWAPDB 0 3');
      assert.equal(await r.flushdb(), 'OK');
      assert.equal(await r.dbsize(), 0, 'DBSIZE after FLUSHDB');
      r3.disconnect();
    }),
    c('close', async () => {
      assert.equal(await r.quit(), 'OK');
    }),
  ];
}

runChecks(`ioredis ${require('ioredis/package.json').version} against ${host}:${port}`, [...checks(2), ...checks(3)]);
