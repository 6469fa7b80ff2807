/** What the benchmark ran on: figures are only comparable within one run on one machine. */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, platform, release, arch, totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { Machine } from './results';

const git = (args: string[]): string | null => {
  try {
    return execFileSync('git', args, {
      cwd: resolve(__dirname, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  } catch {
    return null;
  }
};

export const machineInfo = (date = new Date()): Machine => {
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(['status', '--porcelain']);
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    totalMemoryBytes: totalmem(),
    platform: platform(),
    release: release(),
    arch: arch(),
    node: process.version,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    date: date.toISOString(),
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
  };
};
