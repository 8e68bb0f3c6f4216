/** A line about what a command is doing, on stderr so that stdout stays the command's answer. */
export const progress = (message: string) => process.stderr.write(`veridis: ${message}\n`)
