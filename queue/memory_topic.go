package queue

import (
	"container/heap"
	"sync"
	"time"
)

// entryState says where a memory entry currently lives.
type entryState uint8

const (
	stateReady    entryState = iota // in topic.ready
	stateDelayed                    // in topic.delayed, waiting for a retry
	stateInflight                   // in topic.inflight, held by a handler
	stateGone                       // acknowledged, dead-lettered or dropped
)

// memEntry is one message in a memory topic. Entries are reused across
// deliveries; token changes on every delivery so that the settlement of a
// delivery that has since timed out and been redelivered is recognised as
// stale.
type memEntry struct {
	msg     Message // Attempt is the number of the current or next delivery
	limited int     // deliveries that ended in RateLimited
	state   entryState
	token   uint64
	at      time.Time // retry due time (delayed) or visibility deadline (in flight)
	index   int       // position in the heap holding it
}

// entryHeap orders entries by their at time; it keeps each entry's index so
// an acknowledged entry is removed at once instead of lingering until its
// deadline, which keeps memory bounded by what is really in flight.
type entryHeap []*memEntry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// dueBefore pops the earliest entry if its time is not after now.
func (h *entryHeap) dueBefore(now time.Time) *memEntry {
	if h.Len() == 0 || (*h)[0].at.After(now) {
		return nil
	}
	return heap.Pop(h).(*memEntry)
}

// fifo is a slice-backed queue whose consumed prefix is reclaimed once it
// is at least half the backing array, so a long-lived topic does not hold
// on to every message it ever carried.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) len() int { return len(q.items) - q.head }

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

func (q *fifo[T]) front() T { return q.items[q.head] }

func (q *fifo[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 64 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}

// marks remembers which message IDs were handled, for DedupeWindow. The
// window is the same for every mark, so marks expire in the order they were
// made and a FIFO finds the expired ones without scanning.
type marks struct {
	until map[string]int64 // id → expiry, Unix nanoseconds
	order fifo[mark]
}

type mark struct {
	id    string
	until int64
}

func (m *marks) has(id string, now time.Time) bool {
	u, ok := m.until[id]
	return ok && now.UnixNano() < u
}

func (m *marks) add(id string, now time.Time, window time.Duration) {
	m.prune(now)
	if m.until == nil {
		m.until = make(map[string]int64)
	}
	u := now.Add(window).UnixNano()
	m.until[id] = u
	m.order.push(mark{id: id, until: u})
}

// prune forgets expired marks. A mark renewed later has a newer expiry in the
// map than its old FIFO record, which must then not delete it.
func (m *marks) prune(now time.Time) {
	n := now.UnixNano()
	for m.order.len() > 0 && m.order.front().until <= n {
		old := m.order.pop()
		if m.until[old.id] == old.until {
			delete(m.until, old.id)
		}
	}
}

// memTopic is the state of one topic; mu guards every field.
type memTopic struct {
	mu       sync.Mutex
	ready    fifo[*memEntry]
	delayed  entryHeap
	inflight entryHeap
	dead     []DeadLetter // oldest first, at most MaxDeadLetters
	marks    marks
	waiters  []chan struct{} // idle workers, woken one per new message
	tokens   uint64
	// timer wakes an idle worker when the earliest retry falls due or the
	// earliest visibility deadline passes; timerAt is when it fires (zero
	// when it is not armed).
	timer   *time.Timer
	timerAt time.Time
}

// arm makes sure the timer fires by the earliest retry or visibility
// deadline, so idle workers need no timers of their own.
func (t *memTopic) arm(now time.Time) {
	var next time.Time
	if t.delayed.Len() > 0 {
		next = t.delayed[0].at
	}
	if t.inflight.Len() > 0 && (next.IsZero() || t.inflight[0].at.Before(next)) {
		next = t.inflight[0].at
	}
	if next.IsZero() || (!t.timerAt.IsZero() && !next.Before(t.timerAt)) {
		return
	}
	t.timerAt = next
	if t.timer == nil {
		t.timer = time.AfterFunc(next.Sub(now), t.fire)
		return
	}
	t.timer.Reset(next.Sub(now))
}

// fire wakes one idle worker, which promotes and reclaims what is due and
// re-arms the timer for what comes next.
func (t *memTopic) fire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.timerAt = time.Time{}
	t.wake(1)
}

// wake wakes up to n idle workers.
func (t *memTopic) wake(n int) {
	for ; n > 0 && len(t.waiters) > 0; n-- {
		last := len(t.waiters) - 1
		close(t.waiters[last])
		t.waiters[last] = nil
		t.waiters = t.waiters[:last]
	}
}

// unwait removes a worker that stopped waiting for another reason. If it
// had already been woken, the wake-up is passed on so that no message is
// left ready while another worker sleeps.
func (t *memTopic) unwait(ch chan struct{}) {
	for i, w := range t.waiters {
		if w == ch {
			last := len(t.waiters) - 1
			t.waiters[i] = t.waiters[last]
			t.waiters[last] = nil
			t.waiters = t.waiters[:last]
			return
		}
	}
	t.wake(1)
}

// enqueue makes a message ready for delivery.
func (t *memTopic) enqueue(e *memEntry) {
	e.state = stateReady
	t.ready.push(e)
}

// bury dead-letters a message, dropping the oldest dead letter at the cap.
func (t *memTopic) bury(m Message, reason string, failedAt time.Time, max int) {
	if len(t.dead) >= max {
		n := copy(t.dead, t.dead[len(t.dead)-max+1:])
		clear(t.dead[n:])
		t.dead = t.dead[:n]
	}
	t.dead = append(t.dead, DeadLetter{Message: m, Error: reason, FailedAt: failedAt})
}

// depth counts messages waiting, delayed or in flight.
func (t *memTopic) depth() int64 {
	return int64(t.ready.len() + t.delayed.Len() + t.inflight.Len())
}
