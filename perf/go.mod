module github.com/toonstore/toonstore/perf

go 1.26
