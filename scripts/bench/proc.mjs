// What the bench reads from Linux's /proc: the process tree under a process, and a thread's CPU.
import { readdirSync, readFileSync } from "node:fs";

/**
 * Every process under `root`, `root` first: pid and the fields of /proc/<pid>/stat after
 * "(comm) " (state, ppid, pgrp, …; utime is index 11). Read in one pass; empty off Linux.
 * @param {number} root
 * @returns {{ pid: number, fields: string[] }[]}
 */
export function processTree(root) {
  const stats = new Map();
  let names = [];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, "latin1");
      stats.set(Number(name), s.slice(s.lastIndexOf(")") + 2).split(" "));
    } catch {
      // the process ended between readdir and read
    }
  }
  const kids = new Map();
  for (const [pid, fields] of stats) {
    const ppid = Number(fields[1]);
    if (!kids.has(ppid)) kids.set(ppid, []);
    kids.get(ppid).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    const fields = stats.get(pid);
    if (!fields) continue;
    out.push({ pid, fields });
    stack.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/**
 * A thread's CPU time in ms: the first field of its schedstat, ns on a CPU. Read synchronously,
 * so that it is taken at the moment asked. `undefined` where there is no such thread or no /proc.
 * @param {number} pid @param {number} [tid] the process's main thread by default
 */
export function threadCpuMs(pid, tid = pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return undefined;
  }
}
