// The article's three programs, in Go, for `gotimer-lab seed`.
//
//	go run seed.go MODE SECONDS
//
// MODE is one of
//
//	after-in-loop  time.After(3 * time.Minute) inside the for/select (the article's leak)
//	hoisted-after  one time.After before the loop (the article's first fix)
//	timer-reset    one time.NewTimer, Reset at the top of every iteration (the article's second fix)
//
// A producer goroutine sends fmt.Sprintf("%s %d", "hello", i) on a channel of capacity 120, as in the
// article; the main goroutine receives in the loop. A sampling goroutine prints, every 50 ms, one
// CSV line: seconds since start, messages received, runtime.MemStats.HeapAlloc, RSS from
// /proc/self/statm, the number of completed GC cycles (NumGC), the consumer's CPU time (empty: a
// goroutine has no CPU clock of its own, it moves between threads) and the process's CPU time (the
// sum of every thread's /proc/self/task/*/schedstat run time, in ns). The lab's Rust programs
// print the same format. After SECONDS it exits.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// every is the time between two samples.
const every = 50 * time.Millisecond

const timeout = 3 * time.Minute

var received uint64

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

// processCPUNanos is the CPU time of every live thread of the process: the first field of each
// /proc/self/task/TID/schedstat (ns on a CPU), the clock CLOCK_THREAD_CPUTIME_ID reads.
func processCPUNanos() uint64 {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0
	}
	var total uint64
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		if ns, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
			total += ns
		}
	}
	return total
}

// sample prints one line every 50 ms, and exits the process after `seconds`.
func sample(start time.Time, seconds float64) {
	var ms runtime.MemStats
	for k := 0; ; k++ {
		if wait := time.Until(start.Add(time.Duration(k) * every)); wait > 0 {
			time.Sleep(wait)
		}
		n := atomic.LoadUint64(&received)
		runtime.ReadMemStats(&ms)
		s := time.Since(start).Seconds()
		fmt.Printf("%.3f,%d,%d,%d,%d,,%d\n", s, n, ms.HeapAlloc, rssBytes(), ms.NumGC,
			processCPUNanos())
		if float64(k)*every.Seconds() >= seconds {
			os.Exit(0)
		}
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: seed after-in-loop|hoisted-after|timer-reset SECONDS")
		os.Exit(2)
	}
	mode := os.Args[1]
	seconds, err := strconv.ParseFloat(os.Args[2], 64)
	if err != nil || seconds <= 0 {
		fmt.Fprintln(os.Stderr, "SECONDS must be a positive number")
		os.Exit(2)
	}

	ch1 := make(chan string, 120)
	go func() {
		i := 0
		for {
			i++
			ch1 <- fmt.Sprintf("%s %d", "hello", i)
		}
	}()

	fmt.Println("seconds,messages,heap_bytes,rss_bytes,gcs,consumer_cpu_ns,process_cpu_ns")
	start := time.Now()
	go sample(start, seconds)

	var n uint64
	switch mode {
	case "after-in-loop":
		for {
			select {
			case <-ch1:
				n++
				atomic.StoreUint64(&received, n)
			case <-time.After(timeout):
				fmt.Fprintln(os.Stderr, "timeout")
			}
		}
	case "hoisted-after":
		deadline := time.After(timeout)
		for {
			select {
			case <-ch1:
				n++
				atomic.StoreUint64(&received, n)
			case <-deadline:
				fmt.Fprintln(os.Stderr, "timeout")
				return
			}
		}
	case "timer-reset":
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		for {
			timer.Reset(timeout)
			select {
			case <-ch1:
				n++
				atomic.StoreUint64(&received, n)
			case <-timer.C:
				fmt.Fprintln(os.Stderr, "timeout")
				return
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		os.Exit(2)
	}
}
