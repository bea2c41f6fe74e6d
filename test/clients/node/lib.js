'use strict';
// Shared by node_redis.js and ioredis.js: argument parsing, a watchdog that
// bounds the whole run, and checks that record every failure and go on.

const assert = require('node:assert/strict');

/** Parses `node SCRIPT PORT [HOST]` (or $TSTD_PORT / $TSTD_HOST). */
function target() {
  const port = Number(process.argv[2] ?? process.env.TSTD_PORT ?? 6379);
  const host = process.argv[3] ?? process.env.TSTD_HOST ?? '127.0.0.1';
  if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node SCRIPT PORT [HOST]');
    process.exit(2);
  }
  return { host, port };
}

/** Exits 1 if the run has not finished within ms. */
function watchdog(ms) {
  setTimeout(() => {
    console.error(`FAIL timed out after ${ms} ms`);
    process.exit(1);
  }, ms).unref();
}

/** Binary value: every byte twice, then CR LF, NUL and RESP-looking bytes. */
function binaryValue() {
  const all = Buffer.alloc(512);
  for (let i = 0; i < 512; i++) all[i] = i % 256;
  return Buffer.concat([all, Buffer.from('\r\n\x00\r\n', 'latin1'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('$-1\r\n*3\r\n')]);
}

const NOT_INTEGER = 'ERR value is not an integer or out of range';

/**
 * Runs named async checks in order; a failing check is recorded and the
 * rest still run. Prints one line per failure and a summary, then exits 1 on
 * any failure, 0 otherwise.
 */
async function runChecks(label, checks) {
  const failures = [];
  let passed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      passed++;
    } catch (err) {
      failures.push(`${name}: ${err && err.stack ? err.stack : err}`);
    }
  }
  for (const f of failures) console.log('FAIL', f);
  console.log(`${label}: ${passed} checks ok, ${failures.length} failing`);
  process.exit(failures.length ? 1 : process.exitCode || 0);
}

/** Parses CLIENT INFO / one CLIENT LIST line into an object. */
function parseClientInfo(line) {
  const o = {};
  for (const kv of String(line).trim().split(' ')) {
    const i = kv.indexOf('=');
    if (i > 0) o[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return o;
}

/** Parses INFO text into { section: { field: value } } (lowercase sections). */
function parseInfo(text) {
  const out = {};
  let cur = null;
  for (const line of String(text).split('\r\n')) {
    if (line.startsWith('# ')) {
      cur = out[line.slice(2).toLowerCase()] = {};
    } else if (line && cur) {
      const i = line.indexOf(':');
      cur[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return out;
}

module.exports = { assert, target, watchdog, binaryValue, NOT_INTEGER, runChecks, parseClientInfo, parseInfo };
