package command

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/toonstore/toonstore/pkg/glob"
	"github.com/toonstore/toonstore/pkg/protocol"
)

// Pub/sub: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE
// SUNSUBSCRIBE PUBLISH SPUBLISH and the PUBSUB container, with Redis 7.0's
// replies (pubsub.c). Shard channels (SSUBSCRIBE, SPUBLISH) behave, as in
// a Redis without cluster mode, like channels in a namespace of their own.
//
// Delivery. PUBLISH runs on the publisher's event loop. Under the
// registry's read lock it formats the message once per protocol and hands
// it to each subscriber with Client.Deliver, which appends it to the
// subscriber's inbox and wakes the subscriber's loop; the loop writes it
// before serving more of that client's input. A publisher subscribed to
// the channel itself gets the message appended to its own reply buffer,
// before PUBLISH's integer reply, in Redis's order.
//
// Output limit. A subscriber that does not read would make its inbox (and
// its loop's output buffer) grow without bound. After each delivery the
// publisher adds the inbox bytes Deliver reports to the output bytes the
// subscriber's loop last published (Client.OutBuf) and applies Redis's
// `client-output-buffer-limit pubsub` class: at the hard limit, or above
// the soft limit for longer than its seconds, the subscriber is killed
// (Server.KillClient) with Redis's log line; nothing more is delivered to
// it. Every subscriber counts as a pubsub-class client, as in Redis.
//
// Lock order: pubsub.mu, then Clients.mu (KillClient), then a client's
// inbox lock (Deliver). No shard lock is taken here.

// psKind selects one of the three namespaces.
type psKind int

const (
	psChannel psKind = iota // SUBSCRIBE / PUBLISH
	psPattern               // PSUBSCRIBE
	psShard                 // SSUBSCRIBE / SPUBLISH
	psKinds
)

// subName, unsubName: the first element of the confirmation replies.
func (k psKind) subName() string {
	switch k {
	case psPattern:
		return "psubscribe"
	case psShard:
		return "ssubscribe"
	}
	return "subscribe"
}

func (k psKind) unsubName() string {
	switch k {
	case psPattern:
		return "punsubscribe"
	case psShard:
		return "sunsubscribe"
	}
	return "unsubscribe"
}

// pubsub is the server-wide subscription registry.
type pubsub struct {
	mu sync.RWMutex // guards subs
	// subs[kind] maps a channel (or pattern) to its subscribers in
	// subscription order (a client appears at most once per name).
	subs [psKinds]map[string][]*Client

	limit atomic.Pointer[obufLimit] // parsed pubsub output limits, see pubsubLimit
}

// clientSubs is a client's side of the registry.
type clientSubs struct {
	// names[kind] is the set of names c is subscribed to. Owned by c's
	// event loop (SUBSCRIBE & co, RESET, Disconnected run there).
	names [psKinds]map[string]struct{}
	total int // sum of the sizes of names; loop-owned (subscribed-mode check)
	// counts mirror len(names[kind]) for other goroutines (CLIENT LIST).
	counts [psKinds]atomic.Int32
	// softSince is when (Unix s) the pending output was first seen over
	// the soft limit, 0 while under it. Written by publishers.
	softSince atomic.Int64
}

// subscribed reports whether c has any subscription (Redis's CLIENT_PUBSUB
// flag). Safe from any goroutine.
func (c *Client) subscribed() bool {
	return c.subs.counts[psChannel].Load()+c.subs.counts[psPattern].Load()+c.subs.counts[psShard].Load() > 0
}

// subCount is the count a confirmation reports: channels plus patterns, or
// shard channels alone (Redis's clientSubscriptionsCount and
// clientShardSubscriptionsCount).
func (c *Client) subCount(k psKind) int64 {
	if k == psShard {
		return int64(len(c.subs.names[psShard]))
	}
	return int64(len(c.subs.names[psChannel]) + len(c.subs.names[psPattern]))
}

func pubsubCommands() []*Command {
	return []*Command{
		{Name: "subscribe", Run: func(x *Ctx) { x.subscribe(psChannel) }},
		{Name: "psubscribe", Run: func(x *Ctx) { x.subscribe(psPattern) }},
		{Name: "ssubscribe", Run: func(x *Ctx) { x.subscribe(psShard) }},
		{Name: "unsubscribe", Run: func(x *Ctx) { x.unsubscribe(psChannel) }},
		{Name: "punsubscribe", Run: func(x *Ctx) { x.unsubscribe(psPattern) }},
		{Name: "sunsubscribe", Run: func(x *Ctx) { x.unsubscribe(psShard) }},
		{Name: "publish", Run: func(x *Ctx) { x.publish(psChannel) }},
		{Name: "spublish", Run: func(x *Ctx) { x.publish(psShard) }},
		{Name: "pubsub", Subcommands: map[string]*Command{
			"channels":      {Run: func(x *Ctx) { x.pubsubChannels(psChannel) }},
			"shardchannels": {Run: func(x *Ctx) { x.pubsubChannels(psShard) }},
			"numsub":        {Run: func(x *Ctx) { x.pubsubNumSub(psChannel) }},
			"shardnumsub":   {Run: func(x *Ctx) { x.pubsubNumSub(psShard) }},
			"numpat":        {Run: pubsubNumPat},
			"help":          {Run: pubsubHelp},
		}},
	}
}

// errSubscribedMode is Redis 7.0's rejection of a command in RESP2
// subscribed mode; %s is the command's full name.
const errSubscribedModeFmt = "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"

// subscribedModeErr returns the error to reply instead of running cmd for
// c, or "" if cmd may run: a RESP2 client with subscriptions may only run
// (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET; RESP3 has no
// limit. Called by Execute on c's loop.
func subscribedModeErr(c *Client, cmd *Command) string {
	if c.subs.total == 0 || c.Proto != 2 {
		return ""
	}
	switch cmd.Name {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
		"ping", "quit", "reset":
		return ""
	}
	return strings.Replace(errSubscribedModeFmt, "%s", cmd.FullName(), 1)
}

// pingSubscribed appends PING's RESP2 subscribed-mode reply, ["pong",
// message or ""], and reports true; false if c is not in that mode.
func pingSubscribed(x *Ctx) bool {
	if x.C.subs.total == 0 || x.C.Proto != 2 {
		return false
	}
	x.Array(2)
	x.BulkString("pong")
	if len(x.Args) == 2 {
		x.Bulk(x.Args[1])
	} else {
		x.BulkString("")
	}
	return true
}

// subscribe adds the client to every name in Args[1:], replying one
// confirmation per name with the running count.
func (x *Ctx) subscribe(k psKind) {
	c, ps := x.C, &x.S.ps
	if c.subs.names[k] == nil {
		c.subs.names[k] = make(map[string]struct{})
	}
	for _, name := range x.Args[1:] {
		if _, ok := c.subs.names[k][string(name)]; !ok {
			n := string(name)
			c.subs.names[k][n] = struct{}{}
			c.subs.total++
			c.subs.counts[k].Add(1)
			ps.mu.Lock()
			if ps.subs[k] == nil {
				ps.subs[k] = make(map[string][]*Client)
			}
			ps.subs[k][n] = append(ps.subs[k][n], c)
			ps.mu.Unlock()
		}
		x.Out = protocol.AppendPushLen(x.Out, 3, c.Proto)
		x.BulkString(k.subName())
		x.Bulk(name)
		x.Int(c.subCount(k))
	}
}

// unsubscribe removes the client from every name in Args[1:] (all of its
// names of kind k, in sorted order, if none is given), replying one
// confirmation per name; with nothing to unsubscribe from, one
// confirmation with a null name.
func (x *Ctx) unsubscribe(k psKind) {
	c := x.C
	names := x.Args[1:]
	if len(names) == 0 {
		all := make([]string, 0, len(c.subs.names[k]))
		for n := range c.subs.names[k] {
			all = append(all, n)
		}
		if len(all) == 0 {
			x.Out = protocol.AppendPushLen(x.Out, 3, c.Proto)
			x.BulkString(k.unsubName())
			x.Null()
			x.Int(c.subCount(k))
			return
		}
		slices.Sort(all)
		for _, n := range all {
			x.S.unsubscribeOne(c, k, n)
			x.Out = protocol.AppendPushLen(x.Out, 3, c.Proto)
			x.BulkString(k.unsubName())
			x.BulkString(n)
			x.Int(c.subCount(k))
		}
		return
	}
	for _, name := range names {
		x.S.unsubscribeOne(c, k, string(name))
		x.Out = protocol.AppendPushLen(x.Out, 3, c.Proto)
		x.BulkString(k.unsubName())
		x.Bulk(name)
		x.Int(c.subCount(k))
	}
}

// unsubscribeOne removes c from name of kind k, if it is subscribed.
// Called on c's loop.
func (s *Server) unsubscribeOne(c *Client, k psKind, name string) {
	if _, ok := c.subs.names[k][name]; !ok {
		return
	}
	delete(c.subs.names[k], name)
	c.subs.total--
	c.subs.counts[k].Add(-1)
	s.ps.mu.Lock()
	s.ps.removeLocked(k, name, c)
	s.ps.mu.Unlock()
}

// removeLocked removes c from the subscribers of name; ps.mu is held.
func (ps *pubsub) removeLocked(k psKind, name string, c *Client) {
	subs := ps.subs[k][name]
	if i := slices.Index(subs, c); i >= 0 {
		subs = slices.Delete(subs, i, i+1)
	}
	if len(subs) == 0 {
		delete(ps.subs[k], name)
	} else {
		ps.subs[k][name] = subs
	}
}

// unsubscribeAll removes every subscription of c without replying
// (Disconnected, RESET). Called on c's loop.
func (s *Server) unsubscribeAll(c *Client) {
	if c.subs.total == 0 {
		return
	}
	s.ps.mu.Lock()
	for k := psKind(0); k < psKinds; k++ {
		for n := range c.subs.names[k] {
			s.ps.removeLocked(k, n, c)
		}
		c.subs.names[k] = nil
		c.subs.counts[k].Store(0)
	}
	s.ps.mu.Unlock()
	c.subs.total = 0
	c.subs.softSince.Store(0)
}

// publish delivers Args[2] on channel Args[1] and replies the number of
// receivers: subscribers of the channel plus, for PUBLISH, one per
// (pattern, subscriber) whose pattern matches.
func (x *Ctx) publish(k psKind) {
	s := x.S
	ch, msg := x.Args[1], x.Args[2]
	lim := s.pubsubLimit()
	now := s.nowMs() / 1000
	name := "message"
	if k == psShard {
		name = "smessage"
	}
	var m [2][]byte // the message in RESP2 and RESP3, built on first use
	format := func(proto int) []byte {
		i := min(proto, 3) - 2
		if m[i] == nil {
			b := protocol.AppendPushLen(nil, 3, proto)
			b = protocol.AppendBulkString(b, name)
			b = protocol.AppendBulk(b, ch)
			m[i] = protocol.AppendBulk(b, msg)
		}
		return m[i]
	}
	n := int64(0)
	s.ps.mu.RLock()
	for _, c := range s.ps.subs[k][string(ch)] {
		n++
		x.deliverTo(c, format, lim, now)
	}
	if k == psChannel && len(s.ps.subs[psPattern]) > 0 {
		chs := string(ch)
		for pat, subs := range s.ps.subs[psPattern] {
			if !glob.MatchString(pat, chs, false) {
				continue
			}
			var pm [2][]byte
			pformat := func(proto int) []byte {
				i := min(proto, 3) - 2
				if pm[i] == nil {
					b := protocol.AppendPushLen(nil, 4, proto)
					b = protocol.AppendBulkString(b, "pmessage")
					b = protocol.AppendBulkString(b, pat)
					b = protocol.AppendBulk(b, ch)
					pm[i] = protocol.AppendBulk(b, msg)
				}
				return pm[i]
			}
			for _, c := range subs {
				n++
				x.deliverTo(c, pformat, lim, now)
			}
		}
	}
	s.ps.mu.RUnlock()
	x.Int(n)
}

// deliverTo hands one message to subscriber c: appended to the reply
// buffer if c is the publisher itself, else delivered to c's inbox, then
// c's output limit is checked. A killed client gets nothing more.
func (x *Ctx) deliverTo(c *Client, format func(proto int) []byte, lim obufLimit, now int64) {
	if c == x.C {
		x.Out = append(x.Out, format(c.Proto)...)
		return
	}
	if c.Killed() {
		return
	}
	_, proto := c.published()
	pending := int64(c.Deliver(format(proto), false)) + c.OutBuf.Load()
	if lim.reached(c, pending, now) {
		x.S.Log.Warn("Client " + string(appendClientInfo(nil, c, nil, now*1000)) +
			" scheduled to be closed ASAP for overcoming of output buffer limits.")
		x.S.KillClient(c)
	}
}

// obufLimit is the pubsub class of client-output-buffer-limit.
type obufLimit struct {
	raw              string // the directive's value it was parsed from
	hard, soft, secs int64  // bytes, bytes, seconds; 0 = no limit
}

// Redis's default pubsub class: 32mb hard, 8mb soft for 60 seconds.
const (
	defaultPubSubHard = 32 << 20
	defaultPubSubSoft = 8 << 20
	defaultPubSubSecs = 60
)

// reached is Redis's checkClientOutputBufferLimits for pending bytes of c
// at time now (Unix s): the hard limit at once, the soft limit once it has
// been exceeded continuously for more than secs seconds.
func (l obufLimit) reached(c *Client, pending, now int64) bool {
	hard := l.hard > 0 && pending >= l.hard
	soft := l.soft > 0 && pending >= l.soft
	if soft {
		since := c.subs.softSince.Load()
		if since == 0 {
			c.subs.softSince.Store(now)
			soft = false
		} else if now-since <= l.secs {
			soft = false
		}
	} else if c.subs.softSince.Load() != 0 {
		c.subs.softSince.Store(0)
	}
	return hard || soft
}

// pubsubLimit returns the current pubsub output limits, parsing the
// client-output-buffer-limit directive only when its value changed.
func (s *Server) pubsubLimit() obufLimit {
	raw := ""
	if s.Config != nil {
		raw = s.Config.Value("client-output-buffer-limit")
	}
	if p := s.ps.limit.Load(); p != nil && p.raw == raw {
		return *p
	}
	l := obufLimit{raw: raw, hard: defaultPubSubHard, soft: defaultPubSubSoft, secs: defaultPubSubSecs}
	f := strings.Fields(raw)
	for i := 0; i+3 < len(f); i += 4 {
		if !strings.EqualFold(f[i], "pubsub") {
			continue
		}
		hard, err1 := strconv.ParseInt(f[i+1], 10, 64)
		soft, err2 := strconv.ParseInt(f[i+2], 10, 64)
		secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil {
			l.hard, l.soft, l.secs = hard, soft, secs
		}
	}
	s.ps.limit.Store(&l)
	return l
}

// PUBSUB CHANNELS [pattern] and PUBSUB SHARDCHANNELS [pattern]: the
// channels with at least one subscriber, matching pattern if given.
func (x *Ctx) pubsubChannels(k psKind) {
	if len(x.Args) > 3 {
		pubsubSyntaxErr(x)
		return
	}
	var out []string
	x.S.ps.mu.RLock()
	for n := range x.S.ps.subs[k] {
		if len(x.Args) == 2 || glob.Match(x.Args[2], []byte(n), false) {
			out = append(out, n)
		}
	}
	x.S.ps.mu.RUnlock()
	slices.Sort(out)
	x.Array(len(out))
	for _, n := range out {
		x.BulkString(n)
	}
}

// PUBSUB NUMSUB [channel ...] and PUBSUB SHARDNUMSUB [channel ...]:
// channel/count pairs (a flat array in RESP2 as in RESP3, as Redis).
func (x *Ctx) pubsubNumSub(k psKind) {
	names := x.Args[2:]
	x.Array(2 * len(names))
	x.S.ps.mu.RLock()
	for _, n := range names {
		x.Bulk(n)
		x.Int(int64(len(x.S.ps.subs[k][string(n)])))
	}
	x.S.ps.mu.RUnlock()
}

// PUBSUB NUMPAT: the number of distinct patterns subscribed to.
func pubsubNumPat(x *Ctx) {
	x.S.ps.mu.RLock()
	n := len(x.S.ps.subs[psPattern])
	x.S.ps.mu.RUnlock()
	x.Int(int64(n))
}

// pubsubSyntaxErr is Redis's addReplySubcommandSyntaxError.
func pubsubSyntaxErr(x *Ctx) {
	x.Error("ERR unknown subcommand or wrong number of arguments for '" + cstr(x.Args[1], 128) +
		"'. Try " + strings.ToUpper(string(x.Args[0])) + " HELP.")
}

// PUBSUB HELP: Redis 7.0's text.
func pubsubHelp(x *Ctx) {
	helpReply(x, []string{
		"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	})
}

// pubsubCounts returns the number of channels, patterns and shard channels
// with at least one subscriber (INFO's pubsub_channels, pubsub_patterns,
// pubsubshard_channels).
func (s *Server) pubsubCounts() (channels, patterns, shard int) {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.subs[psChannel]), len(s.ps.subs[psPattern]), len(s.ps.subs[psShard])
}
