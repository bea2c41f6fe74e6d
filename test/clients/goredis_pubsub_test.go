package clients

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisPubSub subscribes many go-redis clients (channel and pattern
// subscribers, spread over the server's event loops by their connections)
// and publishes from several goroutines at once: every subscriber must
// receive every message exactly once, and each publisher's messages in the
// order it published them; every PUBLISH counts all the subscribers.
func TestGoRedisPubSub(t *testing.T) {
	const (
		channelSubs = 12
		patternSubs = 4
		publishers  = 4
		perPub      = 150
	)
	for _, proto := range []int{2, 3} {
		t.Run("resp="+strconv.Itoa(proto), func(t *testing.T) {
			eachServer(t, func(t *testing.T, tg target) {
				rdb := newGoRedis(t, goRedisOptions(tg, proto))
				ctx := testCtx(t, 60*time.Second)

				type result struct {
					name string
					err  error
				}
				results := make(chan result, channelSubs+patternSubs)
				var ready sync.WaitGroup
				subscribe := func(name string, ps *redis.PubSub) {
					ready.Add(1)
					if _, err := ps.Receive(ctx); err != nil { // the confirmation
						t.Fatalf("%s: subscribe: %v", name, err)
					}
					ready.Done()
					go func() {
						defer ps.Close()
						next := make([]int, publishers)
						for got := 0; got < publishers*perPub; got++ {
							m, err := ps.ReceiveMessage(ctx)
							if err != nil {
								results <- result{name, fmt.Errorf("after %d messages: %w", got, err)}
								return
							}
							var p, seq int
							if _, err := fmt.Sscanf(m.Payload, "p%d:%d", &p, &seq); err != nil || p < 0 || p >= publishers {
								results <- result{name, fmt.Errorf("bad payload %q", m.Payload)}
								return
							}
							if m.Channel != "news" || seq != next[p] {
								results <- result{name, fmt.Errorf("message %d: got %q on %q, want p%d:%d on news", got, m.Payload, m.Channel, p, next[p])}
								return
							}
							next[p]++
						}
						results <- result{name, nil}
					}()
				}
				for i := 0; i < channelSubs; i++ {
					subscribe(fmt.Sprintf("sub%d", i), rdb.Subscribe(ctx, "news"))
				}
				for i := 0; i < patternSubs; i++ {
					subscribe(fmt.Sprintf("psub%d", i), rdb.PSubscribe(ctx, "ne*"))
				}
				ready.Wait()

				var wg sync.WaitGroup
				errs := make(chan error, publishers)
				for p := 0; p < publishers; p++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						pub := newGoRedis(t, goRedisOptions(tg, proto))
						for seq := 0; seq < perPub; seq++ {
							n, err := pub.Publish(ctx, "news", fmt.Sprintf("p%d:%d", p, seq)).Result()
							if err != nil || n != channelSubs+patternSubs {
								errs <- fmt.Errorf("publisher %d, message %d: PUBLISH = %d, %v; want %d", p, seq, n, err, channelSubs+patternSubs)
								return
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				var failed []string
				for i := 0; i < channelSubs+patternSubs; i++ {
					if r := <-results; r.err != nil {
						failed = append(failed, r.name+": "+r.err.Error())
					}
				}
				if len(failed) > 0 {
					t.Fatalf("subscribers failed:\n%s", strings.Join(failed, "\n"))
				}
			})
		})
	}
}
