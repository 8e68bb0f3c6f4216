import type { Command } from 'commander'
import { writeGeneratedManifests } from '../../infra/deploy/k8s.ts'

export function registerK8sCommand(program: Command) {
  const k8s = program.command('k8s').description('Kubernetes manifests under infra/k8s/')
  k8s
    .command('generate')
    .description('write the manifests that follow from the code (processes, Kafka topics)')
    .action(() => {
      const changed = writeGeneratedManifests()
      process.stdout.write(changed.length ? `written: ${changed.join(', ')}\n` : 'up to date\n')
    })
}
