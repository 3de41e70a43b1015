package chart

import (
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// Handler serves GET /charts/{token}.png (any prefix: it reads the path's
// last segment) by drawing the chart the token carries. A bad token of any
// kind (too long, a wrong MAC, a payload that does not inflate or decode or
// validate) is a bare 404: the caller learns nothing of why. The PNG is
// cacheable for a year, since the same URL always draws the same picture,
// and the Signer keeps the last CachedCharts it drew. A drawing failure is
// a 500, logged to log (nil discards).
func (s *Signer) Handler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name := path.Base(r.URL.Path)
		tok, ok := strings.CutSuffix(name, ".png")
		if !ok || len(tok) > MaxTokenLen {
			http.NotFound(w, r)
			return
		}
		spec, err := s.Verify(tok)
		if err != nil {
			log.DebugContext(r.Context(), "chart: refused", "err", err)
			http.NotFound(w, r)
			return
		}
		_, mac, _ := strings.Cut(tok, ".")
		png, err := s.drawn.get(mac, func() ([]byte, error) { return s.draw(spec) })
		if err != nil {
			log.ErrorContext(r.Context(), "chart: render", "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "image/png")
		h.Set("Content-Length", strconv.Itoa(len(png)))
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		if _, err := w.Write(png); err != nil {
			log.DebugContext(r.Context(), "chart: write", "err", err) // the client went away
		}
	})
}
