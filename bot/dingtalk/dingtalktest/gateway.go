package dingtalktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
)

// Topics of the frames the gateway pushes.
const (
	TopicCard    = "/v1.0/card/instances/callback"
	TopicMessage = "/v1.0/im/bot/messages/get"
)

// gateway is the stream side of the fake: connections opened with a
// ticket, frames pushed to the newest one, redelivered until acked.
type gateway struct {
	mu          sync.Mutex
	tickets     map[string]bool
	conn        *wsConn
	connections int
	opens       int
	connected   chan struct{} // closed and replaced on each new connection
	pending     map[string]chan payload.DataFrameResponse
	deliveries  map[string]int
	dropAcks    int
	subs        []string
	seq         int
}

func (g *gateway) init() {
	g.tickets = map[string]bool{}
	g.connected = make(chan struct{})
	g.pending = map[string]chan payload.DataFrameResponse{}
	g.deliveries = map[string]int{}
}

// wsConn is one stream connection; writes take turns.
type wsConn struct {
	mu   sync.Mutex
	conn *websocket.Conn
}

func (c *wsConn) write(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.WriteJSON(v)
}

func (g *gateway) closeAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.conn.Close()
		g.conn = nil
	}
}

func (s *Server) openConnection(w http.ResponseWriter, r *http.Request) {
	s.gw.mu.Lock()
	s.gw.opens++
	s.gw.mu.Unlock()
	s.mu.Lock()
	s.notify()
	s.mu.Unlock()
	if s.failure(w, r) {
		return
	}
	var in payload.ConnectionEndpointRequest
	if !decode(w, r, &in) {
		return
	}
	if in.ClientId != s.opts.ClientID || in.ClientSecret != s.opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalidClientSecret", "message": "应用凭证错误"})
		return
	}
	ticket := randomHex(8)
	g := &s.gw
	g.mu.Lock()
	g.tickets[ticket] = true
	g.subs = g.subs[:0]
	for _, sub := range in.Subscriptions {
		g.subs = append(g.subs, sub.Type+" "+sub.Topic)
	}
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, payload.ConnectionEndpointResponse{
		Endpoint: "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway/ws", Ticket: ticket})
}

var upgrader = websocket.Upgrader{}

func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	g := &s.gw
	ticket := r.URL.Query().Get("ticket")
	g.mu.Lock()
	ok := g.tickets[ticket]
	delete(g.tickets, ticket) // a ticket opens one connection
	g.mu.Unlock()
	if !ok {
		http.Error(w, "bad ticket", http.StatusUnauthorized)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{conn: conn}
	g.mu.Lock()
	if g.conn != nil {
		_ = g.conn.conn.Close() // DingTalk serves the newest connection
	}
	g.conn = c
	g.connections++
	close(g.connected)
	g.connected = make(chan struct{})
	g.mu.Unlock()
	s.mu.Lock()
	s.notify()
	s.mu.Unlock()
	go s.readAcks(c)
}

// readAcks takes acks off a connection until it closes.
func (s *Server) readAcks(c *wsConn) {
	g := &s.gw
	defer func() {
		g.mu.Lock()
		if g.conn == c {
			g.conn = nil
		}
		g.mu.Unlock()
		_ = c.conn.Close()
	}()
	for {
		_, raw, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var ack payload.DataFrameResponse
		if json.Unmarshal(raw, &ack) != nil {
			continue
		}
		id := ack.GetHeader(payload.DataFrameHeaderKMessageId)
		g.mu.Lock()
		ch, waiting := g.pending[id]
		drop := waiting && g.dropAcks > 0
		if drop {
			g.dropAcks--
		}
		g.mu.Unlock()
		if !waiting || drop || ack.Code >= 500 {
			continue // lost, late, or failed: the frame is redelivered
		}
		select {
		case ch <- ack:
		default:
		}
	}
}

// Connections is how many stream connections were opened so far.
func (s *Server) Connections() int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return s.gw.connections
}

// Opens is how many times a stream endpoint was asked for, refused or not.
func (s *Server) Opens() int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return s.gw.opens
}

// Subscriptions are the type and topic of each subscription the last
// connection asked for.
func (s *Server) Subscriptions() []string {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return append([]string(nil), s.gw.subs...)
}

// Deliveries is how often the frame of that message id was pushed.
func (s *Server) Deliveries(messageID string) int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return s.gw.deliveries[messageID]
}

// DropAcks makes the gateway lose the next n acks, as when an ack comes
// too late: the frames are redelivered.
func (s *Server) DropAcks(n int) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.dropAcks += n
}

// Drop closes the current stream connection from the gateway's side.
func (s *Server) Drop() {
	s.gw.closeAll()
}

// Disconnect sends the SYSTEM frame with which DingTalk asks a client to
// reconnect.
func (s *Server) Disconnect() error {
	return s.system("disconnect", `{"reason":"server restart"}`)
}

// Ping sends a SYSTEM ping, which the client answers with a pong ack.
func (s *Server) Ping() error { return s.system("ping", `{"opaque":"p1"}`) }

func (s *Server) system(topic, data string) error {
	g := &s.gw
	g.mu.Lock()
	c := g.conn
	g.seq++
	id := "sys-" + strconv.Itoa(g.seq)
	g.mu.Unlock()
	if c == nil {
		return errors.New("dingtalktest: no stream connection")
	}
	return c.write(payload.DataFrame{SpecVersion: "1.0", Type: "SYSTEM", Time: time.Now().UnixMilli(),
		Headers: payload.DataFrameHeader{"topic": topic, "messageId": id, "contentType": "application/json"}, Data: data})
}

// Push sends a CALLBACK frame with data on the stream and returns its
// first ack with a code below 500. Without one within AckTimeout it sends
// the frame again (on whatever connection is open by then), up to
// MaxDeliveries times.
func (s *Server) Push(ctx context.Context, topic string, data []byte) (payload.DataFrameResponse, string, error) {
	g := &s.gw
	ch := make(chan payload.DataFrameResponse, 1)
	g.mu.Lock()
	g.seq++
	id := fmt.Sprintf("msg-%d-%s", g.seq, randomHex(4))
	g.pending[id] = ch
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.pending, id)
		g.mu.Unlock()
	}()
	frame := payload.DataFrame{SpecVersion: "1.0", Type: "CALLBACK", Time: time.Now().UnixMilli(),
		Headers: payload.DataFrameHeader{"topic": topic, "messageId": id, "contentType": "application/json",
			"time": strconv.FormatInt(time.Now().UnixMilli(), 10)}, Data: string(data)}
	return s.deliver(ctx, id, frame, ch)
}

// PushRaw sends raw bytes as one frame, for malformed frames; it waits for
// nothing.
func (s *Server) PushRaw(raw []byte) error {
	g := &s.gw
	g.mu.Lock()
	c := g.conn
	g.mu.Unlock()
	if c == nil {
		return errors.New("dingtalktest: no stream connection")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, raw)
}

func (s *Server) deliver(ctx context.Context, id string, frame payload.DataFrame, ch chan payload.DataFrameResponse) (payload.DataFrameResponse, string, error) {
	g := &s.gw
	for range s.opts.MaxDeliveries {
		c, err := s.waitConn(ctx)
		if err != nil {
			return payload.DataFrameResponse{}, id, err
		}
		g.mu.Lock()
		g.deliveries[id]++
		g.mu.Unlock()
		_ = c.write(frame) // a failed write is a lost delivery: redelivered
		t := time.NewTimer(s.opts.AckTimeout)
		select {
		case ack := <-ch:
			t.Stop()
			return ack, id, nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return payload.DataFrameResponse{}, id, ctx.Err()
		}
	}
	return payload.DataFrameResponse{}, id, fmt.Errorf("dingtalktest: frame %s not acked after %d deliveries", id, s.opts.MaxDeliveries)
}

// waitConn returns the open connection, waiting for one.
func (s *Server) waitConn(ctx context.Context) (*wsConn, error) {
	g := &s.gw
	for {
		g.mu.Lock()
		c, next := g.conn, g.connected
		g.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
