package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// serverColor is each server's colour in every chart.
func serverColor(name string) color.Color {
	switch name {
	case nameTstd:
		return color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	case nameRedis:
		return color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
	default:
		return color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // orange
	}
}

// chartView is the part of the matrix the charts show: the 50-connection
// cells of one value size.
type chartView struct {
	size      int
	tests     []string // in run order
	pipelines []int    // ascending
}

// chartViews returns one view per value size that has 50-connection cells.
func (h *harness) chartViews() []chartView {
	var views []chartView
	idx := map[int]int{}
	for _, c := range h.res.cells {
		if c.Clients != 50 {
			continue
		}
		i, ok := idx[c.Size]
		if !ok {
			i = len(views)
			idx[c.Size] = i
			views = append(views, chartView{size: c.Size})
		}
		v := &views[i]
		if !containsString(v.tests, c.Test) {
			v.tests = append(v.tests, c.Test)
		}
		if !containsInt(v.pipelines, c.Pipeline) {
			v.pipelines = append(v.pipelines, c.Pipeline)
		}
	}
	return views
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// chartFiles returns the names of the charts the run draws, relative to
// the output directory.
func (h *harness) chartFiles() []string {
	var fs []string
	for _, v := range h.chartViews() {
		fs = append(fs, h.throughputFile(v.size), h.latencyFile(v.size))
	}
	return fs
}

func (h *harness) throughputFile(size int) string {
	return fmt.Sprintf("%s-throughput-%s.png", h.o.name, shortSize(size))
}

func (h *harness) latencyFile(size int) string {
	return fmt.Sprintf("%s-latency-%s.png", h.o.name, shortSize(size))
}

// charts draws every chart into the output directory and returns the paths.
func (h *harness) charts() ([]string, error) {
	var paths []string
	for _, v := range h.chartViews() {
		p := filepath.Join(h.o.outDir, h.throughputFile(v.size))
		if err := h.throughputChart(v, p); err != nil {
			return nil, err
		}
		q := filepath.Join(h.o.outDir, h.latencyFile(v.size))
		if err := h.latencyChart(v, q); err != nil {
			return nil, err
		}
		paths = append(paths, p, q)
	}
	return paths, nil
}

// throughputChart draws, per test, the median ops/s of each server by
// pipeline depth (50 connections, one value size).
func (h *harness) throughputChart(v chartView, path string) error {
	const cols = 5
	rows := (len(v.tests) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	ticks := make([]plot.Tick, len(v.pipelines))
	for i, p := range v.pipelines {
		ticks[i] = plot.Tick{Value: float64(i), Label: "P" + strconv.Itoa(p)}
	}
	for ti, test := range v.tests {
		p := plot.New()
		p.Title.Text = test
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.3, float64(len(v.pipelines))-0.7
		p.Y.Min = 0
		p.Y.Label.Text = "ops/s"
		for _, name := range serverNames() {
			var xys plotter.XYs
			for i, pl := range v.pipelines {
				c := cell{Test: test, Size: v.size, Pipeline: pl, Clients: 50}
				if rps := h.res.summary(c, name).RPS; !math.IsNaN(rps) {
					xys = append(xys, plotter.XY{X: float64(i), Y: rps})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			l.Color, pts.Color = serverColor(name), serverColor(name)
			l.Width = vg.Points(1.5)
			p.Add(l, pts)
			if ti == 0 {
				p.Legend.Add(serverLabel(name), l, pts)
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		grid[ti/cols][ti%cols] = p
	}
	title := fmt.Sprintf("median ops/s by pipeline depth, 50 connections, %s values (%s)", sizeLabel(v.size), h.env.Start.Format("2006-01-02"))
	return drawGrid(grid, title, vg.Length(cols)*3.6*vg.Inch, vg.Length(rows)*2.8*vg.Inch+0.4*vg.Inch, path)
}

// latencyChart draws p50 and p99 latency of each server per test, one row
// of panels per pipeline depth (50 connections, one value size).
func (h *harness) latencyChart(v chartView, path string) error {
	grid := make([][]*plot.Plot, len(v.pipelines))
	const barW = 7
	for r, pl := range v.pipelines {
		grid[r] = make([]*plot.Plot, 2)
		for col, pct := range []string{"p50", "p99"} {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s latency, pipeline %d", pct, pl)
			p.Y.Label.Text = "ms"
			for si, name := range serverNames() {
				vals := make(plotter.Values, len(v.tests))
				for i, test := range v.tests {
					s := h.res.summary(cell{Test: test, Size: v.size, Pipeline: pl, Clients: 50}, name)
					x := s.P50
					if pct == "p99" {
						x = s.P99
					}
					if math.IsNaN(x) {
						x = 0
					}
					vals[i] = x
				}
				bars, err := plotter.NewBarChart(vals, vg.Points(barW))
				if err != nil {
					return err
				}
				bars.Color = serverColor(name)
				bars.LineStyle.Width = 0
				bars.Offset = vg.Points(float64(si-1) * barW)
				p.Add(bars)
			}
			p.NominalX(v.tests...)
			p.X.Tick.Label.Rotation = math.Pi / 4
			p.X.Tick.Label.XAlign = draw.XRight
			grid[r][col] = p
		}
	}
	title := fmt.Sprintf("median latency, 50 conns, %s values (%s); bars: tstd blue, Redis red, Redis+AOF orange",
		sizeLabel(v.size), h.env.Start.Format("2006-01-02"))
	w := vg.Length(max(2*(1.2+0.5*float64(len(v.tests))), 12)) * vg.Inch
	return drawGrid(grid, title, w, vg.Length(len(v.pipelines))*3.2*vg.Inch+0.4*vg.Inch, path)
}

// drawGrid draws a grid of plots (nil cells left empty) under a title into
// a PNG file.
func drawGrid(grid [][]*plot.Plot, title string, w, h vg.Length, path string) error {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))
	dc := draw.New(img)
	// White background.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	top := 0.4 * vg.Inch
	titleStyle := plot.New().Title.TextStyle
	dc.FillText(titleStyle, vg.Point{X: w / 2, Y: h - top/2}, title)
	body := draw.Crop(dc, 0, 0, 0, -top)
	tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	// plot.Align needs every cell; draw empty ones as blank plots hidden.
	canvases := plot.Align(fillGrid(grid), tiles, body)
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fillGrid returns grid with nil cells replaced by empty plots, as
// plot.Align wants.
func fillGrid(grid [][]*plot.Plot) [][]*plot.Plot {
	out := make([][]*plot.Plot, len(grid))
	for r := range grid {
		out[r] = make([]*plot.Plot, len(grid[r]))
		for c, p := range grid[r] {
			if p == nil {
				p = plot.New()
				p.HideAxes()
			}
			out[r][c] = p
		}
	}
	return out
}
