package feishutest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"
)

// gateway is the fake's long-connection side, as the SDK's ws client
// speaks it: POST /callback/ws/endpoint hands out a WebSocket URL, and on
// it travel protobuf frames (pbbp2.Frame): pings answered with pongs, and
// data frames carrying events, acknowledged by a data frame with the same
// message_id whose payload is the handler's answer. A frame not yet
// acknowledged when a connection drops is sent again on the next one, as
// Feishu redelivers.
type gateway struct {
	s        *Server
	upgrader websocket.Upgrader

	mu       sync.Mutex
	changed  chan struct{}
	conn     *websocket.Conn
	writeMu  sync.Mutex
	conns    int
	seq      int
	pending  map[string]*pushed // by message_id, until acknowledged
	dropNext bool
	closed   bool
}

type pushed struct {
	frame []byte
	ack   chan []byte
}

func newGateway(s *Server) *gateway {
	return &gateway{s: s, changed: make(chan struct{}), pending: map[string]*pushed{}}
}

func (g *gateway) mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /callback/ws/endpoint", g.endpoint)
	mux.HandleFunc("GET /ws", g.serve)
}

func (g *gateway) notify() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// endpoint checks the app's credentials and hands out the WebSocket URL
// with a client config that reconnects at once (the real one waits up to
// minutes).
func (g *gateway) endpoint(w http.ResponseWriter, r *http.Request) {
	var in larkws.BootstrapRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil ||
		in.AppID != g.s.Keys.AppID || in.AppSecret != g.s.Keys.AppSecret {
		writeJSON(w, http.StatusOK, map[string]any{"code": larkws.Forbidden, "msg": "app credentials refused"})
		return
	}
	url := "ws" + strings.TrimPrefix(g.s.URL, "http") + "/ws?device_id=fake-device&service_id=7"
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "ok", "data": map[string]any{
		"URL": url, "ClientConfig": map[string]any{"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}}})
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		_ = conn.Close()
		return
	}
	if g.conn != nil {
		_ = g.conn.Close()
	}
	g.conn = conn
	g.conns++
	resend := make([][]byte, 0, len(g.pending))
	for _, p := range g.pending {
		resend = append(resend, p.frame)
	}
	g.notify()
	g.mu.Unlock()
	for _, f := range resend {
		_ = g.write(conn, f)
	}
	g.read(conn)
}

// read answers pings and takes acknowledgements until the connection ends.
func (g *gateway) read(conn *websocket.Conn) {
	defer func() {
		g.mu.Lock()
		if g.conn == conn {
			g.conn = nil
			g.notify()
		}
		g.mu.Unlock()
		_ = conn.Close()
	}()
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var f larkws.Frame
		if f.Unmarshal(raw) != nil {
			continue
		}
		hs := larkws.Headers(f.Headers)
		switch larkws.FrameType(f.Method) {
		case larkws.FrameTypeControl:
			if hs.GetString(larkws.HeaderType) == string(larkws.MessageTypePing) {
				pong := larkws.Frame{Method: int32(larkws.FrameTypeControl), Service: f.Service,
					Headers: []larkws.Header{{Key: larkws.HeaderType, Value: string(larkws.MessageTypePong)}}}
				b, _ := pong.Marshal()
				_ = g.write(conn, b)
			}
		case larkws.FrameTypeData:
			id := hs.GetString(larkws.HeaderMessageID)
			g.mu.Lock()
			p, ok := g.pending[id]
			delete(g.pending, id)
			g.mu.Unlock()
			if ok {
				p.ack <- f.Payload
			}
		}
	}
}

func (g *gateway) write(conn *websocket.Conn, b []byte) error {
	g.writeMu.Lock()
	defer g.writeMu.Unlock()
	return conn.WriteMessage(websocket.BinaryMessage, b)
}

func (g *gateway) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.conn != nil {
		_ = g.conn.Close()
	}
}

// Connections says how many long connections the gateway accepted.
func (s *Server) Connections() int {
	s.gateway.mu.Lock()
	defer s.gateway.mu.Unlock()
	return s.gateway.conns
}

// WaitConnected waits until the gateway has accepted n connections and one
// is open.
func (s *Server) WaitConnected(ctx context.Context, n int) error {
	g := s.gateway
	for {
		g.mu.Lock()
		ok, ch := g.conns >= n && g.conn != nil, g.changed
		g.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("feishutest: no connection %d: %w", n, ctx.Err())
		}
	}
}

// DropConnection closes the open long connection, as a network failure
// would; the client reconnects.
func (s *Server) DropConnection() {
	g := s.gateway
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.Close()
	}
}

// DropAfterNextPush makes the gateway close the connection right after it
// writes the next event, before any acknowledgement can come back.
func (s *Server) DropAfterNextPush() {
	s.gateway.mu.Lock()
	defer s.gateway.mu.Unlock()
	s.gateway.dropNext = true
}

// Push sends an event (its decrypted JSON: a click or a message) over the
// long connection and waits for its acknowledgement, redelivering it on
// each new connection until one comes. The answer is the handler's.
func (s *Server) Push(ctx context.Context, event []byte) (Answer, error) {
	g := s.gateway
	g.mu.Lock()
	g.seq++
	id := "fake-msg-" + strconv.Itoa(g.seq)
	f := larkws.Frame{SeqID: uint64(g.seq), Service: 7, Method: int32(larkws.FrameTypeData), Payload: event,
		Headers: []larkws.Header{{Key: larkws.HeaderType, Value: string(larkws.MessageTypeEvent)},
			{Key: larkws.HeaderMessageID, Value: id}, {Key: larkws.HeaderSum, Value: "1"},
			{Key: larkws.HeaderSeq, Value: "0"}, {Key: larkws.HeaderTraceID, Value: "trace-" + id}}}
	b, _ := f.Marshal()
	p := &pushed{frame: b, ack: make(chan []byte, 1)}
	g.pending[id] = p
	conn, drop := g.conn, g.dropNext
	g.dropNext = false
	g.mu.Unlock()
	if conn != nil {
		_ = g.write(conn, b)
		if drop {
			_ = conn.Close()
		}
	}
	select {
	case raw := <-p.ack:
		return decodeAck(raw)
	case <-ctx.Done():
		g.mu.Lock()
		delete(g.pending, id)
		g.mu.Unlock()
		return Answer{}, fmt.Errorf("feishutest: no acknowledgement of %s: %w", id, ctx.Err())
	}
}

// StreamClick pushes a click over the long connection.
func (s *Server) StreamClick(ctx context.Context, c Click) (Answer, error) {
	return s.Push(ctx, ClickEvent(s.Keys, c))
}

// decodeAck reads the SDK's acknowledgement: {"code", "headers", "data"}
// with the handler's answer as data.
func decodeAck(raw []byte) (Answer, error) {
	var resp larkws.Response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return Answer{}, fmt.Errorf("feishutest: acknowledgement: %w", err)
	}
	a := Answer{Status: resp.StatusCode, Body: resp.Data}
	if resp.StatusCode != http.StatusOK {
		return a, errors.New("feishutest: the handler failed: code " + strconv.Itoa(resp.StatusCode))
	}
	var out struct {
		Toast *json.RawMessage `json:"toast"`
		Card  *struct {
			Data json.RawMessage `json:"data"`
		} `json:"card"`
	}
	if len(resp.Data) > 0 && json.Unmarshal(resp.Data, &out) == nil {
		if out.Toast != nil {
			_ = json.Unmarshal(*out.Toast, &a.Toast)
		}
		if out.Card != nil {
			a.Card = out.Card.Data
		}
	}
	return a, nil
}
