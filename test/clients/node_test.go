package clients

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nodeStamp is the file, inside node_modules, recording the hash of the
// package.json and package-lock.json that npm ci installed from.
const nodeStamp = ".tstd-install-stamp"

// nodeDeps makes sure node/node_modules holds exactly what
// node/package-lock.json pins: it runs `npm ci` when node_modules is missing
// or was installed from another package.json/package-lock.json (the stamp
// differs), and returns the absolute path of node/. It skips t (fails it
// under TSTD_REQUIRE_REDIS=1) when node or npm is missing; a failing npm ci
// always fails t.
func nodeDeps(t *testing.T) (dir, node string) {
	t.Helper()
	node = lookTool(t, "node", "apt-get install nodejs, or use the machine's Node.js >= 20")
	npm := lookTool(t, "npm", "apt-get install npm")
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		h.Write(b)
	}
	want := []byte(hex.EncodeToString(h.Sum(nil)) + "\n")
	stamp := filepath.Join(dir, "node_modules", nodeStamp)
	got, err := os.ReadFile(stamp)
	if err == nil && bytes.Equal(got, want) {
		return dir, node
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read %s: %v", stamp, err)
	}
	t.Logf("node_modules missing or stale in %s: running npm ci", dir)
	runScript(t, 5*time.Minute, dir, nil, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	if err := os.WriteFile(stamp, want, 0o644); err != nil {
		t.Fatalf("write %s: %v", stamp, err)
	}
	return dir, node
}

// TestNodeClients runs node/node_redis.js (node-redis) and node/ioredis.js
// (ioredis), each over RESP2 and RESP3, against tstd and redis-server.
func TestNodeClients(t *testing.T) {
	dir, node := nodeDeps(t)
	for _, script := range []string{"node_redis.js", "ioredis.js"} {
		t.Run("client="+strings.TrimSuffix(script, ".js"), func(t *testing.T) {
			eachServer(t, func(t *testing.T, tg target) {
				out := runScript(t, 3*time.Minute, dir, nil, node, script, strconv.Itoa(tg.Port), tg.Host)
				t.Logf("%s", out)
				if !strings.Contains(out, " 0 failing") {
					t.Fatalf("%s exited 0 without its summary line:\n%s", script, out)
				}
			})
		})
	}
}
