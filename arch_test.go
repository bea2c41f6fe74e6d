package toonstore_test

// The architecture test enforces the package map of ARCHITECTURE.md:
// which of our packages each package may import, and the rules that keep
// process-wide concerns (flags, environment, signals, os.Exit, printing)
// in cmd/.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/toonstore/toonstore/"

// allowed lists, for every package of ours, the packages of ours that its
// non-test files may import. Arrows point one way:
// cmd -> server -> eventloop -> command -> cache -> store; protocol and glob
// import nothing of ours, store and types only internal/hugemem and
// internal/prefetch.
var allowed = map[string][]string{
	"pkg/protocol":       {},
	"pkg/store":          {"internal/hugemem", "internal/prefetch"},
	"pkg/glob":           {},
	"pkg/types":          {"internal/hugemem", "internal/prefetch"},
	"pkg/config":         {"pkg/glob"},
	"pkg/cache":          {"pkg/store", "pkg/types"},
	"pkg/command":        {"pkg/cache", "pkg/store", "pkg/protocol", "pkg/glob", "pkg/types"},
	"pkg/eventloop":      {"pkg/command", "pkg/protocol", "pkg/cache", "pkg/store"},
	"pkg/server":         {"pkg/eventloop", "pkg/command", "pkg/cache", "pkg/store", "pkg/config", "pkg/protocol"},
	"cmd/tstd":           {"pkg/server", "pkg/config", "pkg/store", "pkg/cache", "pkg/protocol", "pkg/command", "pkg/eventloop"},
	"internal/cmdgen":    {},
	"internal/redistest": {},
	"internal/hugemem":   {},
	"internal/prefetch":  {},
}

// processWide are calls only cmd/ (and generator mains) may make.
var processWide = map[string]bool{
	"os.Exit": true, "os.Getenv": true, "os.LookupEnv": true, "os.Environ": true,
	"signal.Notify": true, "flag.Parse": true,
	"fmt.Print": true, "fmt.Println": true, "fmt.Printf": true,
}

func TestArchitecture(t *testing.T) {
	dirs := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || path == "perf" || path == "bin") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		full, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		dirs[dir] = append(dirs[dir], full)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for dir := range dirs {
		names = append(names, dir)
	}
	sort.Strings(names)
	for _, dir := range names {
		if dir == "." || strings.HasPrefix(dir, "test/") {
			continue // test-only support code: may use anything
		}
		allow, known := allowed[dir]
		if !known {
			t.Errorf("%s: package not in the architecture table (arch_test.go, ARCHITECTURE.md)", dir)
			continue
		}
		isMain := strings.HasPrefix(dir, "cmd/") || strings.HasPrefix(dir, "internal/cmdgen")
		for _, f := range dirs[dir] {
			fname := fset.File(f.Pos()).Name()
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !strings.HasPrefix(p, module) {
					continue
				}
				rel := strings.TrimPrefix(p, module)
				if !contains(allow, rel) {
					t.Errorf("%s imports %s: not allowed by the package map", fname, rel)
				}
			}
			if isMain {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					if n.Recv == nil && n.Name.Name == "init" {
						t.Errorf("%s: func init: no init side effects outside cmd/", fset.Position(n.Pos()))
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						// internal/redistest is test support: it reads TSTD_REQUIRE_REDIS as tests do.
						if id, ok := sel.X.(*ast.Ident); ok && processWide[id.Name+"."+sel.Sel.Name] &&
							!(dir == "internal/redistest" && id.Name+"."+sel.Sel.Name == "os.Getenv") {
							t.Errorf("%s: %s.%s is only for cmd/", fset.Position(n.Pos()), id.Name, sel.Sel.Name)
						}
					}
				}
				return true
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
