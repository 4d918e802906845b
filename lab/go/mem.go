// Bytes per pending timer in Go, for `gotimer-lab mem`.
//
//	go run mem.go KIND COUNT
//
// KIND is timer (time.NewTimer, handles kept), after_func (time.AfterFunc, handles dropped) or after
// (time.After, channels kept). COUNT timers are created with deadlines spread over 1 h to 2 h from
// now, so none fires. Heap is runtime.MemStats.HeapAlloc after a forced GC: before, with the COUNT
// timers pending, and after the handles are dropped (timers stopped first; after's channels simply
// dropped, as a program that abandons them would). RSS is from /proc/self/statm. It prints one CSV
// line after a header, in the same format as the lab's Rust child: empty fields where not applicable.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

func heapBytes() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// spread is the i-th of n deadlines spread evenly over [1 h, 2 h).
func spread(i, n int) time.Duration {
	return time.Hour + time.Duration(int64(time.Hour)/int64(n)*int64(i))
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mem timer|after_func|after COUNT")
		os.Exit(2)
	}
	kind := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "COUNT must be a positive integer")
		os.Exit(2)
	}
	noop := func() {}
	var timers []*time.Timer
	var chans []<-chan time.Time
	switch kind {
	case "timer":
		timers = make([]*time.Timer, 0, n)
	case "after":
		chans = make([]<-chan time.Time, 0, n)
	case "after_func":
	default:
		fmt.Fprintln(os.Stderr, "unknown kind", kind)
		os.Exit(2)
	}
	// Warm up the timer machinery so that its one-off allocations are not counted.
	time.NewTimer(time.Hour).Stop()

	heapBefore, rssBefore := heapBytes(), rssBytes()
	for i := 0; i < n; i++ {
		d := spread(i, n)
		switch kind {
		case "timer":
			timers = append(timers, time.NewTimer(d))
		case "after_func":
			time.AfterFunc(d, noop)
		case "after":
			chans = append(chans, time.After(d))
		}
	}
	heapAfter, rssAfter := heapBytes(), rssBytes()
	runtime.KeepAlive(timers)
	runtime.KeepAlive(chans)

	dropped, rssDropped := "", ""
	switch kind {
	case "timer":
		for _, t := range timers {
			t.Stop()
		}
		timers = nil
	case "after":
		chans = nil
	}
	if kind != "after_func" {
		dropped = strconv.FormatUint(heapBytes(), 10)
		rssDropped = strconv.FormatUint(rssBytes(), 10)
	}
	fmt.Println("kind,count,heap_before,heap_after,heap_dropped,rss_before,rss_after,rss_dropped")
	fmt.Printf("%s,%d,%d,%d,%s,%d,%d,%s\n", kind, n, heapBefore, heapAfter, dropped, rssBefore,
		rssAfter, rssDropped)
}
