/**
 * CPU time of local processes, read from /proc (Linux): what a bench needs to say where a
 * path's CPU goes when everything shares one host's cores, measured rather than profiled (a
 * sampling profiler charges the time a thread waits for a core to whatever it was running).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { managedProcess, readPid } from '../infra/stack/process.ts'

/** USER_HZ is 100 on Linux: /proc counts CPU time in 10-ms ticks. */
const MS_PER_TICK = 10

/** utime + stime of one process (all its threads), in ms; with `reaped`, its waited-for children's too. */
function cpuOfPid(pid: number, reaped: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name: utime, stime, cutime and cstime are the 12th to 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const own = Number(fields[11]) + Number(fields[12])
  return (reaped ? own + Number(fields[13]) + Number(fields[14]) : own) * MS_PER_TICK
}

function childrenOf(pid: number): number[] {
  const children: number[] = []
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const listed = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
    if (listed) children.push(...listed.split(' ').map(Number))
  }
  return children
}

/**
 * CPU time in ms of a process and everything under it: the running descendants' own time plus
 * what the root has reaped (a Postgres backend that ended is in the postmaster's cutime).
 * Descendants that end between two readings may be missed or counted late: a reading is
 * exact to a few ticks per such process.
 */
export function processTreeCpuMs(root: number): number {
  let total = cpuOfPid(root, true)
  const pending = childrenOf(root)
  while (pending.length > 0) {
    const pid = pending.pop()!
    try {
      total += cpuOfPid(pid, false)
      pending.push(...childrenOf(pid))
    } catch {
      // Ended since it was listed.
    }
  }
  return total
}

/**
 * A reader of the CPU time, in ms, of the local stack's services whose names start with `prefix`
 * (`postgres`; `kafka` takes every broker of a cluster), or undefined when none runs here (a
 * remote server).
 */
export function stackServicesCpu(runDir: string, prefix: string): (() => number) | undefined {
  if (!existsSync(runDir)) return undefined
  const pids = readdirSync(runDir)
    .filter((file) => file.startsWith(prefix) && file.endsWith('.pid'))
    .map((file) => readPid(managedProcess(runDir, runDir, file.slice(0, -'.pid'.length))))
    .filter((pid): pid is number => pid !== undefined)
  if (pids.length === 0) return undefined
  const read = () => pids.reduce((sum, pid) => sum + processTreeCpuMs(pid), 0)
  try {
    read()
  } catch {
    return undefined // not readable here: no /proc, or another user's process
  }
  return read
}

/** The calling process's own CPU time (all its threads), in ms. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
