package app

import (
	"context"
	"fmt"
	"time"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/outbox"
	"cardflow/queue"
)

// Retention says how long one kind of stored row is kept before the prune
// loop deletes it, for the console's page on what cardflow keeps.
type Retention struct {
	// Table names what is pruned, as the table label of
	// cardflow_pruned_rows_total and the lines of cardflow prune; empty
	// for what is never pruned.
	Table string
	// What is kept and when its time starts, in zh-CN and in English.
	What, WhatEn string
	// Key is the configuration key that sets For; empty when no key does.
	Key string
	// For is how long it is kept; 0 means for ever.
	For time.Duration
}

// Retentions describes what cfg keeps and for how long, in the order a
// prune pass deletes it, followed by what is never deleted. It reads only
// cfg: the keys of store.*, outbox.* and queue.* that set a retention.
func Retentions(cfg *config.Config) []Retention {
	s := cfg.Store
	dead := cfg.Queue.MaxDeadLetters
	return []Retention{
		{Table: "outbox", Key: "outbox.retention", For: cfg.Outbox.Retention,
			What:   "已发出的通知消息（发送后起算）",
			WhatEn: "sent notification messages, from when they were sent"},
		{Table: "idempotency", Key: "store.idempotency_retention", For: s.IdempotencyRetention,
			What:   "请求的幂等记录：期限内重试的请求得到第一次的结果",
			WhatEn: "idempotency keys: a request retried within this time gets its first answer"},
		{Table: "bot_events", Key: "store.idempotency_retention", For: s.IdempotencyRetention,
			What:   "已处理的聊天平台回调（防止重复处理）",
			WhatEn: "chat platform callbacks already handled, so a redelivery is ignored"},
		{Table: "bot_cards", Key: "store.card_retention", For: s.CardRetention,
			What:   "已结束流程的卡片记录和已发出的日报卡片（结束后起算）",
			WhatEn: "card records of finished instances and of posted digests, from when they finished"},
		{Table: "instances", Key: "store.instance_retention", For: s.InstanceRetention,
			What:   "已结束的流程实例，连同其待办、审批记录和订单关联（结束后起算）",
			WhatEn: "finished instances with their tasks, audit trail and order links, from when they finished"},
		{Table: deadLettersTable, Key: "queue.dead_letter_retention", For: cfg.Queue.DeadLetterRetention,
			What:   "发送失败、不再重试的消息（死信），每个主题最多保留 " + flows.GroupThousands(fmt.Sprint(dead)) + " 条（失败后起算）",
			WhatEn: "messages that failed for good (dead letters), at most " + flows.GroupThousands(fmt.Sprint(dead)) + " per topic, from when they failed"},
		{What: "进行中的流程实例、未发出的通知消息", WhatEn: "running instances and notification messages not yet sent"},
		{What: "订单、库存变动和 KPI 数据", WhatEn: "orders, stock movements and KPI figures"},
	}
}

// NewPruneLoop returns the prune loop of cfg's retentions over store, which
// storeName names in errors: sent outbox messages and idempotency keys, the
// chat platforms' answered callbacks, finished instances and their cards
// when their retention is not 0, and q's dead letters of the topics the app
// consumes when queue.dead_letter_retention is not 0 (q nil: none). opts
// gives the rest (holder, logger, registerer, clock); its retentions,
// interval and tables are cfg's.
func NewPruneLoop(cfg *config.Config, store flows.Store, storeName string, q queue.Queue, opts outbox.PruneOptions) (*outbox.PruneLoop, error) {
	pruner, ok := store.(outbox.Pruner)
	if !ok {
		return nil, fmt.Errorf("app: the %s store cannot prune its outbox and idempotency keys", storeName)
	}
	opts.Tables = nil
	if bs, ok := store.(bot.Store); ok {
		// A platform retries a callback for hours at most: a week of
		// answered events outlasts every retry, like the idempotency keys.
		opts.Tables = append(opts.Tables, outbox.PruneTable{Name: "bot_events",
			Retention: cfg.Store.IdempotencyRetention, Prune: bs.PruneEvents})
	}
	if ip, ok := store.(outbox.InstancePruner); ok {
		opts.Tables = append(opts.Tables, outbox.RetentionTables(ip, cfg.Store.InstanceRetention, cfg.Store.CardRetention)...)
	} else if cfg.Store.InstanceRetention > 0 || cfg.Store.CardRetention > 0 {
		return nil, fmt.Errorf("app: the %s store cannot prune finished instances; set store.instance_retention and store.card_retention to 0", storeName)
	}
	if q != nil && cfg.Queue.DeadLetterRetention > 0 {
		// Small batches: one batch is one script call that holds Redis (a
		// hundred 1 KiB letters take under a millisecond, a thousand 6 ms).
		opts.Tables = append(opts.Tables, outbox.PruneTable{Name: deadLettersTable, BatchSize: 100,
			Retention: cfg.Queue.DeadLetterRetention, Prune: pruneDeadLetters(q, appTopics...)})
	}
	opts.Interval = cfg.Store.PruneInterval
	opts.OutboxRetention = cfg.Outbox.Retention
	opts.IdempotencyRetention = cfg.Store.IdempotencyRetention
	return outbox.NewPruneLoop(pruner, opts), nil
}

// deadLettersTable names the dead letters of every topic in the prune
// loop's results and metric, and on the console.
const deadLettersTable = "dead_letters"

// pruneDeadLetters is one batch over the dead letters of topics: it deletes
// up to limit in all, topic after topic, so a short batch still means that
// none older is left in any of them.
func pruneDeadLetters(q queue.Queue, topics ...string) func(ctx context.Context, before time.Time, limit int) (int, error) {
	return func(ctx context.Context, before time.Time, limit int) (int, error) {
		total := 0
		for _, topic := range topics {
			if total == limit {
				break
			}
			n, err := q.PruneDeadLetters(ctx, topic, before, limit-total)
			total += n
			if err != nil {
				return total, err
			}
		}
		return total, nil
	}
}
