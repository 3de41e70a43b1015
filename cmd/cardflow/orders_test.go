package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOrdersImport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "history.csv")
	require.NoError(t, os.WriteFile(file, []byte("platform,shop,order_no,status,paid,sku,qty,price\n"+
		"jd,1001,J-1,finished,10.00,A,1,10.00\n"+
		"jd,1001,J-2,finished,20.00,B,0,20.00\n"+
		"jd,1001,J-3,paid,30.00,C,3,10.00\n"), 0o644))
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", filepath.Join(dir, "cardflow.db"))
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"orders", "import", "--source", "jd-history", file}, &stdout, &stderr)
	require.Equal(t, 1, code, "a refused order makes the exit status 1; stderr: %s", stderr.String())
	require.Regexp(t, `: 3 orders read: 2 imported, 0 already stored, 1 refused \(in \S+(, [\d,]+ orders/s)?\)\n`, stdout.String())
	require.Contains(t, stdout.String(), file+`:3: generic: lines[0].qty "0": expected a positive whole quantity`)
	require.Regexp(t, `(?m)^100%  3 orders in \S+`, stderr.String(), "progress is shown")

	stdout.Reset()
	stderr.Reset()
	run(t.Context(), []string{"orders", "import", "--source", "jd-history", file}, &stdout, &stderr)
	require.Contains(t, stdout.String(), "3 orders read: 0 imported, 2 already stored, 1 refused")

	code = run(t.Context(), []string{"orders", "import", filepath.Join(dir, "history.xlsx")}, &stdout, &stderr)
	require.Equal(t, 2, code)
	require.True(t, strings.Contains(stderr.String(), "expected a .csv, .jsonl or .ndjson file"))
}
