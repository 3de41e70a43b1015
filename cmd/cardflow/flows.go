package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"cardflow/flows"
)

// defaultFlowsDir and defaultOrgFile are where the example definitions live.
const (
	defaultFlowsDir = "configs/flows"
	defaultOrgFile  = "configs/org.example.yaml"
)

func runFlows(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "validate":
			return runFlowsValidate(args[1:], stdout, stderr)
		case "graph":
			return runFlowsGraph(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "Usage: cardflow flows validate [--org FILE] [PATH...]   check flow definitions")
	fmt.Fprintln(stderr, "       cardflow flows graph [--dir DIR] FLOW_ID          print a Mermaid flowchart")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return 0
	}
	return 2
}

func runFlowsValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows validate", "Parse and validate flow definitions: each PATH is a .yaml file or a directory of\n"+
		"them (default "+defaultFlowsDir+"). Every problem is printed as file:line: reason;\n"+
		"the exit status is 1 when there is any.", stderr)
	org := fs.String("org", "", "also check every assignee rule against this org directory file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{defaultFlowsDir}
	}
	var (
		all  []*flows.Flow
		errs []error
	)
	for _, p := range paths {
		got, err := loadFlows(p)
		errs = append(errs, err)
		all = append(all, got...)
	}
	if *org != "" && len(all) > 0 {
		o, err := loadOrg(*org)
		errs = append(errs, err)
		if err == nil {
			for _, f := range all {
				errs = append(errs, f.CheckOrg(o))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, f := range all {
		fmt.Fprintf(stdout, "ok  %-22s %s (%s)\n", f.ID, f.Name, f.File)
	}
	return 0
}

func runFlowsGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows graph", "Print a flow definition as a Mermaid flowchart (paste it into any Mermaid viewer).", stderr)
	dir := fs.String("dir", defaultFlowsDir, "directory of flow definitions")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "cardflow flows graph: give exactly one flow id")
		fs.Usage()
		return 2
	}
	all, err := flows.LoadDir(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, f := range all {
		if f.ID == fs.Arg(0) {
			fmt.Fprint(stdout, f.Mermaid())
			return 0
		}
	}
	fmt.Fprintf(stderr, "cardflow flows graph: no flow %q in %s\n", fs.Arg(0), *dir)
	return 1
}

// loadFlows parses one definition file, or every one of a directory.
func loadFlows(path string) ([]*flows.Flow, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return flows.LoadDir(path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := flows.ParseFlow(filepath.Clean(path), src)
	if err != nil {
		return nil, err
	}
	return []*flows.Flow{f}, nil
}

func loadOrg(path string) (flows.Org, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return flows.Org{}, err
	}
	return flows.ParseOrg(path, src)
}
