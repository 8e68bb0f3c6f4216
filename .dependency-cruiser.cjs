/**
 * The project's layering, checked by `npm test` (dependency-cruiser). Top-level folders form
 * layers and import only from layers below their own, so no two top-level folders can import
 * each other in a circle, and each layer can be read, deployed and tested with only what is
 * below it.
 *
 *   6 cli                        the one command line; starts everything
 *   5 infra                      the local stack, Prometheus, dashboards: starts processes
 *   4 consumers, monitor         stateless consumers, the lag monitor
 *   3 producers                  chain listeners, the HTTP gateway
 *   2 circuits, contracts        zero-knowledge circuits, Solidity contracts and their tooling
 *   1 core                       bus, config, database, logging, metrics, shared types
 *   0 schemas                    Avro contracts and their generated types
 *
 * test/ and bench/ may import anything; production code never imports them.
 */
const LAYERS = [
  ['schemas'],
  ['core'],
  ['circuits', 'contracts'],
  ['producers'],
  ['consumers', 'monitor'],
  ['infra'],
  ['cli'],
]

const folders = (names) => `^(${names.join('|')})/`
// Unit tests kept beside the code they test may use any layer's helpers to set it up.
const TEST_FILE = '\\.test\\.ts$'

const upwardRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} may not import a higher layer (${LAYERS.slice(index + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: folders(layer), pathNot: TEST_FILE },
  to: { path: folders(LAYERS.slice(index + 1).flat()) },
}))

// Within a layer of two folders, neither may import the other (no circle through a shared layer).
const sameLayerRules = LAYERS.filter((layer) => layer.length > 1).flatMap((layer) =>
  layer.map((name) => ({
    name: `layer-peer-${name}`,
    comment: `${name} may not import its peer in the same layer (${layer.filter((peer) => peer !== name).join(', ')})`,
    severity: 'error',
    from: { path: folders([name]), pathNot: TEST_FILE },
    to: { path: folders(layer.filter((peer) => peer !== name)) },
  })),
)

module.exports = {
  forbidden: [
    ...upwardRules,
    ...sameLayerRules,
    {
      name: 'production-imports-tests',
      comment: 'production code never imports test/ or bench/',
      severity: 'error',
      from: { path: '^(?!test/|bench/)', pathNot: TEST_FILE },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.veridis|schemas/generated/.*\\.js)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
