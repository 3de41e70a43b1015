package flows

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// LoadDir parses every *.yaml file of a directory, in name order. It reports
// every problem of every file at once, plus flow ids used by two files, as
// one *ValidationError; no flow is returned then, because a server must
// not start with part of its flows.
func LoadDir(dir string) ([]*Flow, error) {
	// A missing directory must fail: Glob alone would find no files and
	// the server would run with no flows.
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("flows: load %s: %w", dir, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("flows: load %s: %w", dir, err)
	}
	slices.Sort(files)
	var (
		flows []*Flow
		all   []Problem
		seen  = map[string]string{}
	)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("flows: load %s: %w", dir, err)
		}
		f, err := ParseFlow(file, src)
		var ve *ValidationError
		switch {
		case errors.As(err, &ve):
			all = append(all, ve.Problems...)
			continue
		case err != nil:
			return nil, fmt.Errorf("flows: load %s: %w", file, err)
		}
		if first, dup := seen[f.ID]; dup {
			all = append(all, Problem{File: file, Line: f.idLine, Msg: fmt.Sprintf("flow: id %q is also used by %s", f.ID, first)})
			continue
		}
		seen[f.ID] = file
		flows = append(flows, f)
	}
	if len(all) > 0 {
		return nil, newValidationError(all)
	}
	return flows, nil
}
