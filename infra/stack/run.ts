import { spawn } from 'node:child_process'

/**
 * Runs a command to completion. With `progress`, its output streams to our stderr (long
 * first-time installs show what they are doing); otherwise it is captured and shown only
 * if the command fails.
 */
export function run(
  command: string,
  args: readonly string[],
  options: {
    cwd?: string
    env?: NodeJS.ProcessEnv
    progress?: boolean
    input?: string
    uid?: number
    gid?: number
  } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    })
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (options.progress) process.stderr.write(chunk)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    if (options.input !== undefined) child.stdin?.end(options.input)
    child.on('error', (error) => reject(new Error(`${command} could not be started: ${error.message}`)))
    child.on('close', (code) => {
      if (code === 0) resolve(output)
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${output.slice(-4000)}`))
    })
  })
}

export async function commandExists(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`])
    return true
  } catch {
    return false
  }
}
