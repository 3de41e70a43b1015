package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"

	"cardflow/config"
)

// The stream topics cardflow subscribes to.
const (
	TopicBotMessage   = payload.BotMessageCallbackTopic   // /v1.0/im/bot/messages/get
	TopicCardCallback = payload.CardInstanceCallbackTopic // /v1.0/card/instances/callback
)

// pathOpenConnection asks for a stream endpoint and its ticket.
const pathOpenConnection = utils.GetConnectionEndpointAPIUrl

// maxFrame bounds a frame read from the stream; a frame's data is bounded
// further by maxData when it is decoded.
const maxFrame = 1 << 20

// StreamOptions tune the stream connection.
type StreamOptions struct {
	// MinBackoff and MaxBackoff bound the wait before reconnecting, which
	// doubles (with jitter) after each failed attempt: 1s and 1m by
	// default.
	MinBackoff, MaxBackoff time.Duration
	// KeepAlive is how often a quiet connection is pinged; one silent for
	// twice as long is given up and reconnected. Default 60s.
	KeepAlive time.Duration
	// Answer bounds the handling of one frame: DingTalk redelivers a frame
	// it has no answer to within a few seconds. Default 5s.
	Answer time.Duration
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = time.Minute
	}
	if o.Answer <= 0 {
		o.Answer = 5 * time.Second
	}
	return o
}

// Run keeps the stream connection to DingTalk open until ctx ends or
// Close is called, reconnecting with backoff whenever it drops; clicks and
// robot messages arrive on it. In webhook mode it returns at once.
//
// The connection is cardflow's own, on the wire types of
// dingtalk-stream-sdk-go: the SDK's StreamClient (v0.9.1) shares its
// connection between goroutines without a lock, writes acks from several
// goroutines at once, and reconnects forever once closed, so it can be
// neither stopped nor run under the race detector.
func (p *Platform) Run(ctx context.Context) error {
	if p.cfg.Mode != config.ModeStream {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	o := p.deps.Stream.withDefaults()
	backoff := o.MinBackoff
	for {
		served, err := p.session(ctx, o)
		if ctx.Err() != nil {
			return nil
		}
		if served {
			backoff = o.MinBackoff
		}
		p.log.Warn("stream connection lost; reconnecting", "err", err, "after", backoff)
		select {
		case <-time.After(jitter(backoff)):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, o.MaxBackoff)
	}
}

// jitter spreads reconnects of many instances: d ± 20 %.
func jitter(d time.Duration) time.Duration {
	return d - d/5 + rand.N(d*2/5+1)
}

// endpoint asks DingTalk where to connect.
func (p *Platform) endpoint(ctx context.Context) (*payload.ConnectionEndpointResponse, error) {
	req := payload.ConnectionEndpointRequest{ClientId: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret.Reveal(),
		UserAgent: "cardflow", Subscriptions: []*payload.SubscriptionModel{
			{Type: utils.SubscriptionTypeKCallback, Topic: TopicBotMessage},
			{Type: utils.SubscriptionTypeKCallback, Topic: TopicCardCallback},
		}}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+pathOpenConnection, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := p.http.Do(hr)
	if err != nil {
		return nil, transportError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	if ae := answerError(resp.StatusCode, raw); ae != nil {
		return nil, ae
	}
	var ep payload.ConnectionEndpointResponse
	if err := json.Unmarshal(raw, &ep); err != nil {
		return nil, fmt.Errorf("decode endpoint: %w", err)
	}
	if err := ep.Valid(); err != nil {
		return nil, err
	}
	u, err := url.Parse(ep.Endpoint)
	if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "" {
		return nil, errors.New("the endpoint is not a WebSocket URL")
	}
	return &ep, nil
}

// session serves one connection until it drops or ctx ends; served says
// whether it got as far as connecting.
func (p *Platform) session(ctx context.Context, o StreamOptions) (served bool, err error) {
	ep, err := p.endpoint(ctx)
	if err != nil {
		return false, fmt.Errorf("dingtalk: open stream: %w", err)
	}
	u, _ := url.Parse(ep.Endpoint) // checked by endpoint
	q := u.Query()
	q.Set("ticket", ep.Ticket)
	u.RawQuery = q.Encode()
	dialer := websocket.Dialer{HandshakeTimeout: p.cfg.Timeout, Proxy: http.ProxyFromEnvironment}
	conn, resp, err := dialer.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		// The error names the host, never the ticket.
		return false, fmt.Errorf("dingtalk: dial stream: %w", err)
	}
	p.log.Info("stream connected")
	s := &streamConn{p: p, conn: conn, o: o}
	return true, s.serve(ctx)
}

// streamConn is one stream connection: a reader, and writers that take
// turns (a WebSocket connection takes one writer at a time).
type streamConn struct {
	p    *Platform
	conn *websocket.Conn
	o    StreamOptions

	writeMu sync.Mutex
	work    sync.WaitGroup
}

// maxInFlight bounds the frames handled at once on one connection.
const maxInFlight = 32

func (s *streamConn) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		_ = s.conn.Close()
		// Frames being handled finish (their acks then fail, and DingTalk
		// redelivers them to the next connection, answered once).
		s.work.Wait()
	}()
	s.conn.SetReadLimit(maxFrame)
	quiet := 2*s.o.KeepAlive + 5*time.Second
	_ = s.conn.SetReadDeadline(time.Now().Add(quiet))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(quiet)) })
	go s.keepAlive(ctx)
	go func() {
		<-ctx.Done()
		// Unblocks ReadMessage on shutdown.
		s.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		_ = s.conn.Close()
	}()
	slots := make(chan struct{}, maxInFlight)
	for {
		kind, raw, err := s.conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("dingtalk: read stream: %w", err)
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(quiet))
		if kind != websocket.TextMessage {
			continue
		}
		df, err := decodeFrame(raw)
		if err != nil {
			s.p.log.Warn("stream frame refused", "reason", err.Error(), "bytes", len(raw))
			continue
		}
		if df.Type == utils.SubscriptionTypeKSystem {
			if df.GetTopic() == "disconnect" {
				// DingTalk is about to close this connection: open another.
				return errors.New("dingtalk: the platform asked to reconnect")
			}
			if df.GetTopic() == "ping" {
				pong := payload.NewDataFrameAckPong(df.GetMessageId())
				pong.Data = df.Data
				s.ack(pong)
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.work.Go(func() {
			defer func() { <-slots }()
			s.ack(s.p.handleFrame(ctx, df, s.o.Answer))
		})
	}
}

func (s *streamConn) keepAlive(ctx context.Context) {
	t := time.NewTicker(s.o.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.write(websocket.PingMessage, nil)
		}
	}
}

func (s *streamConn) ack(r *payload.DataFrameResponse) {
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	s.write(websocket.TextMessage, b)
}

func (s *streamConn) write(kind int, b []byte) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := s.conn.WriteMessage(kind, b); err != nil {
		s.p.log.Debug("stream write failed", "err", err)
	}
}
