// The Go half of gotimer's differential test against testing/synctest (tests/synctest_diff.rs,
// which writes the scenarios, runs this, and compares): each scenario runs in a bubble of its own,
// and its trace is written in the format the Rust half writes for its FakeClock. The mapping
// between the two, and why synctest.Wait is called where it is, is documented in synctest_diff.rs.
//
// Run by hand:
//
//	GOTIMER_SYNCTEST_IN=scenarios.txt GOTIMER_SYNCTEST_OUT=go.txt go test -count=1 -run TestScenarios .
package synctestdiff

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// One scenario of the input file: its name and its operations, each a line split into fields.
type scenario struct {
	name string
	ops  [][]string
}

// A timer, ticker or After channel that the scenario made.
type object struct {
	kind   string // "timer", "afterfunc", "after" or "ticker"
	timer  *time.Timer
	ticker *time.Ticker
	after  <-chan time.Time
}

// The channel a receive reads: nil for an AfterFunc's Timer, as Go's t.C is.
func (o *object) c() <-chan time.Time {
	switch o.kind {
	case "timer", "afterfunc":
		return o.timer.C
	case "ticker":
		return o.ticker.C
	default:
		return o.after
	}
}

// A callback's run: which AfterFunc, and the bubble's time it read.
type run struct {
	obj int
	at  int64
}

func TestScenarios(t *testing.T) {
	in, out := os.Getenv("GOTIMER_SYNCTEST_IN"), os.Getenv("GOTIMER_SYNCTEST_OUT")
	if in == "" || out == "" {
		t.Skip("GOTIMER_SYNCTEST_IN and GOTIMER_SYNCTEST_OUT name the scenario and trace files")
	}
	horizon, scenarios := parse(t, in)
	var b strings.Builder
	for _, s := range scenarios {
		var lines []string
		synctest.Test(t, func(t *testing.T) { lines = play(t, horizon, s) })
		fmt.Fprintf(&b, "scenario %s\n", s.name)
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteString("end\n")
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func parse(t *testing.T, path string) (time.Duration, []scenario) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var horizon time.Duration
	var all []scenario
	var cur *scenario
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "horizon" && len(fields) == 2:
			horizon = time.Duration(num(t, fields[1]))
		case fields[0] == "scenario" && len(fields) == 2:
			all = append(all, scenario{name: fields[1]})
			cur = &all[len(all)-1]
		case fields[0] == "end":
			cur = nil
		case cur != nil:
			cur.ops = append(cur.ops, fields)
		default:
			t.Fatalf("%s: stray line %q", path, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if horizon <= 0 {
		t.Fatalf("%s: no horizon line", path)
	}
	return horizon, all
}

func num(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return n
}

// Runs one scenario in the calling bubble and returns its trace.
func play(t *testing.T, horizon time.Duration, s scenario) []string {
	start := time.Now()
	if want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Fatalf("the bubble starts at %v, not %v", start, want)
	}
	off := func(x time.Time) int64 { return x.Sub(start).Nanoseconds() }
	var mu sync.Mutex
	var runs []run
	var objs []*object
	obj := func(op []string, kinds ...string) *object {
		k := int(num(t, op[1]))
		if k < 0 || k >= len(objs) {
			t.Fatalf("scenario %s: %v names no object", s.name, op)
		}
		for _, kind := range kinds {
			if objs[k].kind == kind {
				return objs[k]
			}
		}
		t.Fatalf("scenario %s: %v on a %s", s.name, op, objs[k].kind)
		return nil
	}
	received := func(v time.Time, ok bool) string {
		if !ok {
			return "closed"
		}
		return fmt.Sprintf("value %d", off(v))
	}
	var lines []string
	for i, op := range s.ops {
		res := "-"
		d := func(j int) time.Duration { return time.Duration(num(t, op[j])) }
		switch {
		case op[0] == "timer" && len(op) == 2:
			objs = append(objs, &object{kind: "timer", timer: time.NewTimer(d(1))})
		case op[0] == "afterfunc" && len(op) == 2:
			k := len(objs)
			f := func() {
				mu.Lock()
				runs = append(runs, run{k, off(time.Now())})
				mu.Unlock()
			}
			objs = append(objs, &object{kind: "afterfunc", timer: time.AfterFunc(d(1), f)})
		case op[0] == "after" && len(op) == 2:
			objs = append(objs, &object{kind: "after", after: time.After(d(1))})
		case op[0] == "ticker" && len(op) == 2:
			objs = append(objs, &object{kind: "ticker", ticker: time.NewTicker(d(1))})
		case op[0] == "stop" && len(op) == 2:
			o := obj(op, "timer", "afterfunc", "ticker")
			if o.kind == "ticker" {
				o.ticker.Stop()
			} else {
				res = strconv.FormatBool(o.timer.Stop())
			}
		case op[0] == "reset" && len(op) == 3:
			o := obj(op, "timer", "afterfunc", "ticker")
			if o.kind == "ticker" {
				o.ticker.Reset(d(2))
			} else {
				res = strconv.FormatBool(o.timer.Reset(d(2)))
			}
		case op[0] == "poll" && len(op) == 3:
			// Go has one non-blocking receive; the Rust side's two forms both map to it.
			select {
			case v, ok := <-obj(op, "timer", "afterfunc", "after", "ticker").c():
				res = received(v, ok)
			default:
				res = "none"
			}
		case op[0] == "recv" && len(op) == 2:
			c := obj(op, "timer", "afterfunc", "after", "ticker").c()
			h := time.NewTimer(horizon)
			select {
			case v, ok := <-c:
				res = received(v, ok)
			case <-h.C:
				// A value due at the horizon's own instant wins the tie.
				select {
				case v, ok := <-c:
					res = received(v, ok)
				default:
					res = "blocked"
				}
			}
			h.Stop()
		case op[0] == "sleep" && len(op) == 2:
			time.Sleep(d(1))
		case op[0] == "wait" && len(op) == 1:
			synctest.Wait()
		default:
			t.Fatalf("scenario %s: unknown operation %v", s.name, op)
		}
		lines = append(lines, fmt.Sprintf("%d %s => %s now=%d", i, strings.Join(op, " "), res, off(time.Now())))
	}
	// The scenario's end is an idle point: callbacks due now run, and every started one finishes.
	synctest.Wait()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].at != runs[j].at {
			return runs[i].at < runs[j].at
		}
		return runs[i].obj < runs[j].obj
	})
	for _, r := range runs {
		lines = append(lines, fmt.Sprintf("callback %d at %d", r.obj, r.at))
	}
	lines = append(lines, fmt.Sprintf("final now=%d", off(time.Now())))
	return lines
}
