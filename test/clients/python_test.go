package clients

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pythonWithRedis returns a Python interpreter that can import redis-py:
// $TSTD_PYTHON, else /usr/bin/python3 (Debian's, where python3-redis
// installs; the python3 first on PATH may be another interpreter without
// it). It skips t, or fails it under TSTD_REQUIRE_REDIS=1, when there is
// none.
func pythonWithRedis(t *testing.T) string {
	t.Helper()
	py := os.Getenv("TSTD_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if _, err := exec.LookPath(py); err != nil {
		missing(t, "%s not found (apt-get install python3 python3-redis, or set TSTD_PYTHON)", py)
	}
	cmd := exec.Command(py, "-c", "import redis; print(redis.__version__)")
	out, err := cmd.CombinedOutput()
	if err != nil {
		missing(t, "%s cannot import redis (apt-get install python3-redis, or set TSTD_PYTHON): %v: %s",
			py, err, strings.TrimSpace(string(out)))
	}
	t.Logf("%s: redis-py %s", py, strings.TrimSpace(string(out)))
	return py
}

// TestRedisPy runs py/test_redis_py.py (redis-py, RESP2, and RESP3 where the
// installed redis-py has protocol=3) against tstd and redis-server.
func TestRedisPy(t *testing.T) {
	py := pythonWithRedis(t)
	script, err := filepath.Abs(filepath.Join("py", "test_redis_py.py"))
	if err != nil {
		t.Fatal(err)
	}
	eachServer(t, func(t *testing.T, tg target) {
		out := runScript(t, 3*time.Minute, filepath.Dir(script), nil, py, script, tg.Host, strconv.Itoa(tg.Port))
		t.Logf("%s", out)
		if !strings.Contains(out, " 0 failing") {
			t.Fatalf("test_redis_py.py exited 0 without its summary line:\n%s", out)
		}
	})
}
