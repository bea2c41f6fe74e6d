'use strict';
// node-redis (npm "redis") against a Redis-compatible server, over RESP2 and
// RESP3: node node_redis.js PORT [HOST]. Flushes the server: test servers
// only. Exits 1 listing every failed check.

const { createClient, createClientPool, RESP_TYPES } = require('redis');
const { assert, target, watchdog, binaryValue, NOT_INTEGER, runChecks, parseClientInfo, parseInfo } = require('./lib');

const { host, port } = target();
watchdog(120000);

/** A connected client; errors emitted by it fail the run. */
async function connect(resp, extra = {}) {
  const client = createClient({
    RESP: resp,
    socket: { host, port, connectTimeout: 5000, reconnectStrategy: false },
    ...extra,
  });
  client.on('error', (err) => {
    console.error(`FAIL client error event: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  });
  await client.connect();
  return client;
}

function checks(resp) {
  // Each check starts on an empty server (once connect has made r).
  const c = (name, fn) => [`resp=${resp} ${name}`, async () => {
    if (r) await r.flushAll();
    await fn();
  }];
  let r;
  return [
    c('connect', async () => {
      r = await connect(resp);
      await r.flushAll();
      const info = parseClientInfo(await r.sendCommand(['CLIENT', 'INFO']));
      assert.equal(info.resp, String(resp), 'negotiated protocol (CLIENT INFO resp=)');
      assert.equal(await r.ping(), 'PONG');
      assert.equal(await r.echo('a b'), 'a b');
    }),
    c('strings', async () => {
      assert.equal(await r.set('nr:a', 'hello'), 'OK');
      assert.equal(await r.get('nr:a'), 'hello');
      assert.equal(await r.get('nr:missing'), null);
      assert.equal(await r.set('nr:a', 'x', { condition: 'NX' }), null, 'SET NX on an existing key');
      assert.equal(await r.append('nr:a', '!'), 6);
      assert.equal(await r.strLen('nr:a'), 6);
      assert.equal(await r.getRange('nr:a', 0, 2), 'hel');
      assert.equal(await r.mSet({ 'nr:m1': '1', 'nr:m2': '2' }), 'OK');
      assert.deepEqual(await r.mGet(['nr:m1', 'nr:missing', 'nr:m2']), ['1', null, '2']);
      assert.equal(await r.incr('nr:n'), 1);
      assert.equal(await r.incrBy('nr:n', 41), 42);
      assert.equal(await r.decr('nr:n'), 41);
      assert.equal(Number(await r.incrByFloat('nr:f', 1.5)), 1.5);
      assert.equal(await r.exists(['nr:m1', 'nr:m2', 'nr:missing']), 2);
      assert.equal(await r.type('nr:m1'), 'string');
      assert.equal(await r.del(['nr:m1', 'nr:missing']), 1);
      assert.equal(await r.getDel('nr:m2'), '2');
      await assert.rejects(r.incr('nr:a'), (e) => e.message === NOT_INTEGER, 'INCR on a string');
      assert.equal(await r.get('nr:n'), '41', 'GET after an error');
    }),
    c('expire', async () => {
      await r.set('nr:e', 'v');
      assert.equal(await r.ttl('nr:e'), -1);
      assert.equal(await r.ttl('nr:missing'), -2);
      assert.equal(await r.expire('nr:e', 100), 1);
      const ttl = await r.ttl('nr:e');
      assert.ok(ttl > 90 && ttl <= 100, `TTL after EXPIRE 100: ${ttl}`);
      const pttl = await r.pTTL('nr:e');
      assert.ok(pttl > 90000 && pttl <= 100000, `PTTL after EXPIRE 100: ${pttl}`);
      assert.equal(await r.persist('nr:e'), 1);
      assert.equal(await r.ttl('nr:e'), -1);
      await r.set('nr:e2', 'v', { expiration: { type: 'EX', value: 50 } });
      const t2 = await r.ttl('nr:e2');
      assert.ok(t2 > 40 && t2 <= 50, `TTL after SET EX 50: ${t2}`);
    }),
    c('pipeline', async () => {
      // node-redis pipelines every command issued in the same tick.
      const n = 250;
      const p = [];
      for (let i = 0; i < n; i++) {
        p.push(r.set(`nr:p:${i}`, `v${i}`), r.get(`nr:p:${i}`), r.incr('nr:p:ctr'), r.mGet([`nr:p:${i}`, 'nr:p:missing']));
      }
      const res = await Promise.all(p);
      assert.equal(res.length, 4 * n);
      for (let i = 0; i < n; i++) {
        assert.equal(res[4 * i], 'OK');
        assert.equal(res[4 * i + 1], `v${i}`);
        assert.equal(res[4 * i + 2], i + 1);
        assert.deepEqual(res[4 * i + 3], [`v${i}`, null]);
      }
      // An explicit pipeline without MULTI/EXEC (execAsPipeline).
      const batch = r.multi();
      for (let i = 0; i < 1000; i++) batch.incr('nr:p:batch');
      const out = await batch.execAsPipeline();
      assert.equal(out.length, 1000);
      assert.equal(out[999], 1000);
      await r.set('nr:p:s', 'abc');
      const settled = await Promise.allSettled([r.incr('nr:p:s'), r.get('nr:p:s')]);
      assert.equal(settled[0].status, 'rejected');
      assert.equal(settled[0].reason.message, NOT_INTEGER);
      assert.equal(settled[1].value, 'abc');
    }),
    c('scan', async () => {
      const p = [];
      for (let i = 0; i < 500; i++) p.push(r.set(`nr:s:${String(i).padStart(3, '0')}`, String(i)));
      p.push(r.set('nr:other', '1'));
      await Promise.all(p);
      const seen = new Set();
      for await (const keys of r.scanIterator({ MATCH: 'nr:s:*', COUNT: 17 })) for (const k of keys) seen.add(k);
      assert.equal(seen.size, 500, 'SCAN MATCH nr:s:*');
      const all = new Set();
      for await (const keys of r.scanIterator({ COUNT: 100 })) for (const k of keys) all.add(k);
      assert.equal(all.size, 501, 'SCAN all');
      const strings = new Set();
      for await (const keys of r.scanIterator({ COUNT: 100, TYPE: 'string' })) for (const k of keys) strings.add(k);
      assert.equal(strings.size, 501, 'SCAN TYPE string');
      assert.equal((await r.keys('nr:s:4*')).length, 100, 'KEYS');
      assert.equal(await r.dbSize(), 501);
    }),
    c('binary', async () => {
      const bin = binaryValue();
      const key = Buffer.from('nr:b:\x00\r\n\xff', 'latin1');
      assert.equal(await r.set(key, bin), 'OK');
      const rb = r.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      assert.ok(bin.equals(await rb.get(key)), 'GET binary');
      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 8)) & 0xff;
      await r.set('nr:b:big', big);
      const got = await rb.mGet(['nr:b:big', key]);
      assert.ok(big.equals(got[0]) && bin.equals(got[1]), 'MGET binary');
      assert.equal(await r.strLen('nr:b:big'), 1 << 20);
    }),
    c('info-config', async () => {
      await r.mSet({ 'nr:i:a': '1', 'nr:i:b': '2', 'nr:i:c': '3' });
      await r.expire('nr:i:a', 3600);
      const info = parseInfo(await r.info());
      assert.match(info.server.redis_version, /^7\./);
      assert.equal(info.server.redis_mode, 'standalone');
      assert.equal(info.server.tcp_port, String(port), 'INFO tcp_port');
      assert.match(info.keyspace.db0, /^keys=3,expires=1,avg_ttl=\d+$/);
      const ks = parseInfo(await r.info('keyspace'));
      assert.deepEqual(Object.keys(ks), ['keyspace']);
      assert.deepEqual({ ...(await r.configGet('databases')) }, { databases: '16' });
      assert.deepEqual({ ...(await r.configGet('port')) }, { port: String(port) }, 'CONFIG GET port');
      const mm = { ...(await r.configGet('maxmemory*')) };
      assert.ok('maxmemory' in mm && 'maxmemory-policy' in mm, JSON.stringify(mm));
      assert.deepEqual({ ...(await r.configGet('no-such-directive')) }, {});
      assert.equal(await r.configSet('hz', '20'), 'OK');
      assert.deepEqual({ ...(await r.configGet('hz')) }, { hz: '20' });
      await r.configSet('hz', '10');
    }),
    c('client-name', async () => {
      assert.equal(await r.clientSetName('nr-conn'), 'OK');
      assert.equal(await r.clientGetName(), 'nr-conn');
      const info = parseClientInfo(await r.sendCommand(['CLIENT', 'INFO']));
      assert.equal(info.name, 'nr-conn');
      assert.equal(info.resp, String(resp));
      assert.equal(String(await r.clientId()), info.id);
      await assert.rejects(r.clientSetName('has space'),
        (e) => e.message === 'ERR Client names cannot contain spaces, newlines or special characters.');
      const named = await connect(resp, { name: 'nr-opt' });
      assert.equal(await named.clientGetName(), 'nr-opt', 'name option (HELLO SETNAME / CLIENT SETNAME)');
      const list = String(await r.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').map(parseClientInfo);
      const names = list.map((x) => x.name);
      assert.ok(names.includes('nr-conn') && names.includes('nr-opt'), names.join(','));
      named.destroy();
    }),
    c('database-3', async () => {
      const r3 = await connect(resp, { database: 3 });
      for (let i = 0; i < 8; i++) await r3.set(`nr:d:${i}`, String(i));
      assert.equal(await r3.dbSize(), 8);
      assert.equal(await r.dbSize(), 0);
      assert.equal(parseClientInfo(await r3.sendCommand(['CLIENT', 'INFO'])).db, '3');
      await r3.select(4);
      assert.equal(await r3.dbSize(), 0, 'DBSIZE after SELECT 4');
      assert.equal(await r.swapDb(0, 3), 'OK');
      assert.equal(await r.dbSize(), 8, 'DBSIZE db 0 after SWAPDB 0 3');
      assert.equal(await r.flushDb(), 'OK');
      assert.equal(await r.dbSize(), 0, 'DBSIZE after FLUSHDB');
      r3.destroy();
    }),
    c('pool', async () => {
      // 50 concurrent tasks on a pool of at most 8 connections.
      const pool = createClientPool(
        { RESP: resp, socket: { host, port, connectTimeout: 5000, reconnectStrategy: false } },
        { minimum: 2, maximum: 8, acquireTimeout: 30000 },
      );
      pool.on('error', (err) => {
        console.error(`FAIL pool error event: ${err}`);
        process.exitCode = 1;
      });
      await pool.connect();
      await Promise.all(Array.from({ length: 50 }, async (_, w) => {
        for (let i = 0; i < 20; i++) {
          const k = `nr:pool:${w}:${i}`;
          assert.equal(await pool.set(k, `${w}/${i}`), 'OK');
          assert.equal(await pool.get(k), `${w}/${i}`);
          assert.equal(await pool.incr(`nr:pool:${w}:ctr`), i + 1);
        }
      }));
      assert.equal(await pool.dbSize(), 50 * 21);
      pool.destroy();
    }),
    c('close', async () => {
      r.destroy();
    }),
  ];
}

runChecks(`node-redis ${require('redis/package.json').version} against ${host}:${port}`, [...checks(2), ...checks(3)]);
