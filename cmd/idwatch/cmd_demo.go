package main

import (
	"context"
	"fmt"
	"time"
)

func runDemo(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "demo", "demo [--listen ADDR] [flags]")
	var f simFlags
	f.register(fs, time.Hour)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.infoFile != "" {
		// The demo's info file holds the console URL and API key, which exist only once the
		// console is wired in; writing the emulator's details there would mislead scripts.
		return fmt.Errorf("%w: --info-file is not available yet: the demo does not run the console; use 'idwatch sim --info-file F' for the emulator's connection details", errUsage)
	}
	sim, serve, err := f.start(io)
	if err != nil {
		return err
	}
	fmt.Fprintln(io.out, "idwatch demo: collection, detection and the console are not wired in yet;")
	fmt.Fprintln(io.out, "this demo runs only oktasim, the Okta org emulator, with live workforce traffic.")
	printSimBanner(io, sim)
	return serve(ctx)
}
