import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { sleep } from '../../core/bus/retry.ts'

/**
 * Background processes owned by the project: started detached with their output in a log
 * file, tracked by a pid file under the project's run directory, so `status` and `down`
 * work from any later shell.
 */
export interface ManagedProcess {
  readonly name: string
  readonly pidFile: string
  readonly logFile: string
}

export interface SpawnSpec {
  readonly command: string
  readonly args: readonly string[]
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  readonly uid?: number
  readonly gid?: number
  /**
   * Nice value of the process's scheduling group, 0–19. A detached process leads a session of
   * its own, and under the kernel's autogroup scheduling (on by default) every session is
   * weighed as one group, whatever `nice` its threads have: a `nice -n 10` validator in its own
   * session still took a full share of the CPU from the test run's session. The group's own
   * nice (`/proc/<pid>/autogroup`) is what makes it yield.
   */
  readonly sessionNice?: number
}

export function managedProcess(runDir: string, logDir: string, name: string): ManagedProcess {
  return { name, pidFile: path.join(runDir, `${name}.pid`), logFile: path.join(logDir, `${name}.log`) }
}

/** The kernel's start time of a process (clock ticks since boot), which a reused pid does not share. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/**
 * The pid recorded for a managed process, if that pid still belongs to it: after a reboot
 * or pid reuse another program may hold the number, and must be neither trusted nor killed.
 */
export function readPid(proc: ManagedProcess): number | undefined {
  if (!existsSync(proc.pidFile)) return undefined
  const [pidText, startTime] = readFileSync(proc.pidFile, 'utf8').trim().split(/\s+/)
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  if (startTime !== undefined && startTimeOf(pid) !== undefined && startTimeOf(pid) !== startTime)
    return undefined
  return pid
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie (exited, not yet reaped) still answers kill(0); /proc says what it really is.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

export function runningPid(proc: ManagedProcess): number | undefined {
  const pid = readPid(proc)
  return isAlive(pid) ? pid : undefined
}

export function startDetached(proc: ManagedProcess, spec: SpawnSpec): number {
  mkdirSync(path.dirname(proc.pidFile), { recursive: true })
  mkdirSync(path.dirname(proc.logFile), { recursive: true })
  const log = openSync(proc.logFile, 'a')
  writeFileSync(
    log,
    `\n--- ${new Date().toISOString()} starting ${proc.name}: ${spec.command} ${spec.args.join(' ')}\n`,
  )
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  })
  closeSync(log)
  // Without a listener a failed spawn (ENOENT) would crash this process after we throw.
  child.on('error', () => undefined)
  if (child.pid === undefined) throw new Error(`could not start ${proc.name} (${spec.command})`)
  child.unref()
  if (spec.sessionNice !== undefined) setSessionNice(child.pid, spec.sessionNice)
  writeFileSync(proc.pidFile, `${child.pid} ${startTimeOf(child.pid) ?? ''}\n`)
  return child.pid
}

/**
 * Sets the autogroup nice of the session `pid` leads. spawn() returns after the child's exec,
 * so its setsid() has happened. A kernel without autogroup scheduling has no such file, and
 * there `nice` alone already applies: nothing to do.
 */
function setSessionNice(pid: number, nice: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** `signal` (SIGTERM by default), then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopProcess(
  proc: ManagedProcess,
  graceMs = 20_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<'stopped' | 'killed' | 'not running'> {
  const pid = readPid(proc)
  if (!isAlive(pid) || pid === undefined) {
    rmSync(proc.pidFile, { force: true })
    return 'not running'
  }
  const stopped = () => {
    rmSync(proc.pidFile, { force: true })
    return 'stopped' as const
  }
  if (!signalIfAlive(pid, signal)) return stopped()
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return stopped()
    await sleep(100)
  }
  // It may have exited between the last look and now (at the grace deadline): that is a stop.
  if (!signalIfAlive(pid, 'SIGKILL')) return stopped()
  const killDeadline = Date.now() + 10_000
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(50)
  rmSync(proc.pidFile, { force: true })
  return 'killed'
}

/** Sends `signal`; false when the process is already gone (ESRCH), anything else thrown. */
function signalIfAlive(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

/** The last lines of a log file, for error messages when a process dies on start. */
export function tailLog(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** True when `url` answers 2xx within `timeoutMs`; any failure (refused, timeout) is false. */
export async function httpOk(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    return response.ok
  } catch {
    return false
  }
}
