// compose-check loads Compose files with compose-go, the Compose Specification's reference
// loader that `docker compose` itself uses: the file is checked against the specification's
// JSON schema, interpolated, normalised and checked for consistency (unknown services in
// depends_on, undefined volumes and networks, ...), exactly as `docker compose config`
// does. On success the normalised project is printed as JSON on stdout; on failure the
// loader's message goes to stderr and the exit code is 1.
//
//	compose-check docker-compose.yml [more files...]
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE...")
		os.Exit(64)
	}
	ctx := context.Background()
	options, err := cli.NewProjectOptions(os.Args[1:], cli.WithOsEnv, cli.WithConsistency(true),
		// Every profile: the chain nodes behind `--profile chains` are checked too.
		cli.WithProfiles([]string{"*"}))
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(ctx)
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
