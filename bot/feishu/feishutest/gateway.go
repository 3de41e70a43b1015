package feishutest

import "net/http"

// gateway is the long-connection side of the fake.
type gateway struct{ s *Server }

func newGateway(s *Server) *gateway { return &gateway{s: s} }

func (g *gateway) mount(mux *http.ServeMux) {}

func (g *gateway) close() {}
