package flows

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// LoadDir parses every *.yaml file of a directory, in name order. It reports
// every problem of every file at once, plus flow ids used by two files, as
// one *ValidationError; no flow is returned then, because a server must
// not start with part of its flows.
func LoadDir(dir string) ([]*Flow, error) {
	return LoadFS(os.DirFS(dir), ".", dir)
}

// LoadFS is LoadDir on a file system (the examples embedded in the binary,
// say); name is what messages call dir.
func LoadFS(fsys fs.FS, dir, name string) ([]*Flow, error) {
	// A missing directory must fail: Glob alone would find no files and
	// the server would run with no flows.
	if _, err := fs.ReadDir(fsys, dir); err != nil {
		return nil, fmt.Errorf("flows: load %s: %w", name, err)
	}
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("flows: load %s: %w", name, err)
	}
	slices.Sort(files)
	var (
		flows []*Flow
		all   []Problem
		seen  = map[string]string{}
	)
	for _, rel := range files {
		src, err := fs.ReadFile(fsys, rel)
		if err != nil {
			return nil, fmt.Errorf("flows: load %s: %w", name, err)
		}
		file := filepath.Join(name, path.Base(rel))
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
