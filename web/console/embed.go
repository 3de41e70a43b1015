// Package console holds the web console's templates, stylesheet, script
// and icons, embedded in the binary; server/console serves them.
package console

import "embed"

// Files are templates/*.html (html/template: layout.html and one file per
// page) and static/ (served at /console/static/).
//
//go:embed templates static
var Files embed.FS
