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
// article; the main goroutine receives in the loop. A sampling goroutine prints, every 250 ms, one
// CSV line: seconds since start, messages received, runtime.MemStats.HeapAlloc, and RSS from
// /proc/self/statm. The lab's Rust programs print the same format. After SECONDS it exits.
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

// sample prints one line every 250 ms, and exits the process after `seconds`.
func sample(start time.Time, seconds float64) {
	var ms runtime.MemStats
	for k := 0; ; k++ {
		if wait := time.Until(start.Add(time.Duration(k) * 250 * time.Millisecond)); wait > 0 {
			time.Sleep(wait)
		}
		n := atomic.LoadUint64(&received)
		runtime.ReadMemStats(&ms)
		s := time.Since(start).Seconds()
		fmt.Printf("%.3f,%d,%d,%d\n", s, n, ms.HeapAlloc, rssBytes())
		if float64(k)*0.25 >= seconds {
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

	fmt.Println("seconds,messages,heap_bytes,rss_bytes")
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
