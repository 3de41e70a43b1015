package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"cardflow/flows"
)

// Packed rows. The messages one commit writes for one instance and topic
// (a decision notifies the applicant, the other signers and the next
// step's assignees) share one outbox row (migrations/00016): one row to
// insert and mark where there were five. A row's messages are read,
// published and marked together, so a row is never half sent. Their keys
// are claimed in outbox_keys, which keeps a key unique while its message
// is kept.
//
// Message i of row seq has Seq seq<<packBits | i, which ascends with the
// rows' commit order as the contract asks; MarkOutboxSent maps back. A row
// written before the migration holds one message (keys NULL, its key in
// key).
const (
	packBits = 10
	maxPack  = 1 << packBits
)

func messageSeq(rowSeq int64, i int) int64 { return rowSeq<<packBits | int64(i) }

// sqlRowMessages is, in SQL, how many messages an outbox row holds.
const sqlRowMessages = `COALESCE(cardinality(keys), 1)`

// sqlFreeKeys is a data-modifying CTE that frees the keys of the outbox
// rows a CTE named gone_outbox deleted RETURNING key, keys.
const sqlFreeKeys = `gone_keys AS (
	DELETE FROM outbox_keys WHERE key = ANY(ARRAY(
		SELECT key FROM gone_outbox WHERE key IS NOT NULL UNION ALL SELECT unnest(keys) FROM gone_outbox)))`

// setKeys returns the keys that are set.
func setKeys(keys []string) []string {
	set := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			set = append(set, k)
		}
	}
	return set
}

// packEnd returns the end of the run of messages from start that go into
// one row: same instance and topic, at most maxPack.
func packEnd(msgs []flows.OutboxMessage, start int) int {
	end := start + 1
	for end < len(msgs) && end-start < maxPack &&
		msgs[end].InstanceID == msgs[start].InstanceID && msgs[end].Topic == msgs[start].Topic {
		end++
	}
	return end
}

// pack returns a packed row's keys and payload: the messages' payloads as
// one JSON array, an absent payload as null.
func pack(msgs []flows.OutboxMessage) ([]string, json.RawMessage) {
	keys := make([]string, len(msgs))
	size := 2
	for i, m := range msgs {
		keys[i] = m.Key
		size += len(m.Payload) + 5
	}
	payload := make([]byte, 0, size)
	payload = append(payload, '[')
	for i, m := range msgs {
		if i > 0 {
			payload = append(payload, ',')
		}
		if len(m.Payload) == 0 {
			payload = append(payload, "null"...)
		} else {
			payload = append(payload, m.Payload...)
		}
	}
	return keys, append(payload, ']')
}

// sqlPendingOutbox reads the oldest unsent rows up to the one whose
// unsent messages reach $1 in all: a batch stops short of $1 only when
// nothing more is pending, and a commit of more messages than a batch
// still goes out whole.
const sqlPendingOutbox = `
SELECT seq, COALESCE(key, ''), keys, sent_parts, instance_id, topic, payload, created_at FROM (
	SELECT seq, key, keys, sent_parts, instance_id, topic, payload, created_at, unsent,
		sum(unsent) OVER (ORDER BY seq) AS upto
	FROM (SELECT seq, key, keys, sent_parts, instance_id, topic, payload, created_at,
			` + sqlRowMessages + ` - COALESCE(cardinality(sent_parts), 0) AS unsent
		FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1) AS head
) AS counted
WHERE upto - unsent < $1
ORDER BY seq`

// PendingOutbox returns limit unsent messages in ascending Seq, which is
// commit order per instance, or all there are when fewer. The unsent
// messages of one row come together, so the last row may take the batch
// beyond limit.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]flows.OutboxMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, sqlPendingOutbox, limit)
	var (
		list []flows.OutboxMessage
		m    flows.OutboxMessage
		keys []string
		sent []int32
	)
	// The payload is read as the database holds it (see unmarshalJSON) and
	// a packed row's array is cut into its messages without decoding them.
	_, err := pgx.ForEachRow(rows, []any{&m.Seq, &m.Key, &keys, &sent, &m.InstanceID, &m.Topic, &m.Payload, &m.CreatedAt},
		func() error {
			if keys == nil {
				m.Seq = messageSeq(m.Seq, 0)
				list = append(list, m)
				return nil
			}
			payloads, err := splitArray(m.Payload)
			if err != nil || len(payloads) != len(keys) {
				return fmt.Errorf("outbox row %d: %d keys and a payload that is not an array of as many: %w",
					m.Seq, len(keys), cmp.Or(err, errors.New("length differs")))
			}
			for i, p := range payloads {
				if slices.Contains(sent, int32(i)) {
					continue
				}
				one := m
				one.Seq, one.Key, one.Payload = messageSeq(m.Seq, i), keys[i], p
				if string(p) == "null" {
					one.Payload = nil
				}
				list = append(list, one)
			}
			return nil
		})
	if err != nil {
		return nil, fail(err, "pending outbox")
	}
	return list, nil
}

// splitArray cuts a JSON array into its elements, each as it is written
// without the whitespace around it, as encoding/json would decode it into
// []json.RawMessage. It expects valid JSON (a column the database checked):
// it finds where elements end by the nesting of brackets outside strings
// and does not check the elements themselves. The elements share b.
func splitArray(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	i = skipSpace(b, i+1)
	list := []json.RawMessage{}
	if i < len(b) && b[i] == ']' {
		return list, trailing(b, i+1)
	}
	for {
		start, depth, inString := i, 0, false
	element:
		for ; i < len(b); i++ {
			switch c := b[i]; {
			case inString && c == '\\':
				i++ // the escaped byte cannot end the string
			case inString:
				inString = c != '"'
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case (c == '}' || c == ']') && depth > 0:
				depth--
			case depth == 0 && (c == ']' || c == ','):
				break element
			}
		}
		if i >= len(b) {
			return nil, errors.New("JSON array not closed")
		}
		elem := bytes.TrimRight(b[start:i], " \t\r\n")
		if len(elem) == 0 {
			return nil, errors.New("JSON array with an empty element")
		}
		list = append(list, elem)
		if b[i] == ']' {
			return list, trailing(b, i+1)
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// trailing fails unless only whitespace follows b[:i].
func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errors.New("text after the JSON array")
	}
	return nil
}

// sqlMarkOutboxSent adds the marked messages to their rows' sent_parts
// and marks a row sent once all of its messages are. A seq of no message
// (an index past its row's end) marks nothing. $2 and $3 are packBits and
// its mask. Each marked row is looked up by its key (see the package
// comment), and so is each row updated: a join of the marks with the
// rows was planned as a hash of every unsent row, a backlog's worth for
// each mark.
const sqlMarkOutboxSent = `
WITH marks AS (
	SELECT s >> $2 AS seq, array_agg((s & $3)::int) AS parts FROM unnest($1::bigint[]) AS s GROUP BY 1
), merged AS MATERIALIZED (
	SELECT o.seq, o.size, ARRAY(
		SELECT DISTINCT p FROM unnest(o.sent_parts || m.parts) AS p WHERE p < o.size ORDER BY p) AS parts
	FROM marks m CROSS JOIN LATERAL (
		SELECT seq, ` + sqlRowMessages + ` AS size, COALESCE(sent_parts, '{}') AS sent_parts
		FROM outbox WHERE seq = m.seq AND sent_at IS NULL OFFSET 0) AS o
)
UPDATE outbox o SET (sent_at, sent_parts) = (
	SELECT CASE WHEN cardinality(m.parts) = m.size THEN now() END,
		CASE WHEN cardinality(m.parts) IN (0, m.size) THEN NULL ELSE m.parts END
	FROM merged m WHERE m.seq = o.seq)
WHERE o.seq = ANY(ARRAY(SELECT seq FROM merged))`

// MarkOutboxSent marks messages sent, and a row once all its messages are
// (the relay publishes and marks a row's messages together). Sent rows are
// kept (they are the history of what was notified) but leave the partial
// index the relay reads.
func (s *Store) MarkOutboxSent(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, sqlMarkOutboxSent, seqs, packBits, maxPack-1); err != nil {
		return fail(err, "mark outbox sent")
	}
	return nil
}

// OutboxBacklog reports how many messages are unsent and when the oldest of
// them was committed (the zero time when none are).
func (s *Store) OutboxBacklog(ctx context.Context) (int64, time.Time, error) {
	var (
		count  int64
		oldest pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(`+sqlRowMessages+` - COALESCE(cardinality(sent_parts), 0)), 0), min(created_at)
		FROM outbox WHERE sent_at IS NULL`).
		Scan(&count, &oldest)
	if err != nil {
		return 0, time.Time{}, fail(err, "outbox backlog")
	}
	return count, timeOrZero(oldest), nil
}
