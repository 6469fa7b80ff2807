#!/usr/bin/env node
// The npm registry this project is developed against serves only the packages of the machine's
// own platform, so `npm install` leaves other platforms' optional binaries (@swc/core-darwin-*,
// @unrs/resolver-binding-*) out of package-lock.json, and `npm ci` then refuses the lock as out
// of sync. Run this after `npm install`: it adds those entries (version, os, cpu, optional), which
// npm ci skips on a platform they do not fit. Idempotent.

const fs = require('fs');
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const pk = lock.packages;
const osOf = (n) =>
  [
    'darwin',
    'win32',
    'linux',
    'android',
    'freebsd',
    'openharmony',
    'sunos',
    'aix',
    'netbsd',
    'openbsd',
  ].find((o) => n.includes(o));
const cpuOf = (n) =>
  ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'].find((c) =>
    new RegExp(`[-_]${c}([-_]|$)`).test(n),
  );
let added = 0;
for (const [path, entry] of Object.entries(pk)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${name}`;
    if (pk[target]) continue;
    const os = osOf(name),
      cpu = cpuOf(name);
    pk[target] = {
      version: spec.replace(/^[\^~]/, ''),
      ...(entry.dev && { dev: true }),
      optional: true,
      ...(os && { os: [os] }),
      ...(cpu && { cpu: [cpu] }),
    };
    added++;
  }
}
fs.writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log('added', added);
