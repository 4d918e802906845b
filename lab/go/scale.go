// ns per timer operation in Go as the number of pending timers grows, for `gotimer-lab scale`.
//
//	go run scale.go PENDING...
//
// For each PENDING, in increasing order, it first adds background timers (time.AfterFunc with
// deadlines spread pseudo-randomly over 1 h to 2 h, handles dropped) until that many are pending,
// then times two operations, in batches of 1,000, for at least 300 ms and 50 batches each:
//
//	insert+cancel: t := time.NewTimer(time.Hour); t.Stop()
//	reset:         one of 1024 pending timers Reset to 1 h plus up to 1 s
//	after_func:    time.AfterFunc(time.Hour, f).Stop()
//
// and prints the lower quartile of the batches' ns per operation (robust to the process being
// descheduled on a shared machine): CSV "pending,insert_cancel_ns,reset_ns,after_func_ns", the same
// format as the lab's Rust child.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

const batch = 1000

// spread maps i to a deadline in [1 h, 2 h), scattered (splitmix64), the same function as the Rust side.
func spread(i uint64) time.Duration {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return time.Hour + time.Duration(z%uint64(time.Hour))
}

// measure runs op in batches and returns the lower quartile of the batches' ns per operation.
func measure(op func(k int)) float64 {
	var perOp []float64
	start := time.Now()
	k := 0
	for len(perOp) < 50 || time.Since(start) < 300*time.Millisecond {
		t0 := time.Now()
		for j := 0; j < batch; j++ {
			op(k)
			k++
		}
		perOp = append(perOp, float64(time.Since(t0).Nanoseconds())/batch)
	}
	sort.Float64s(perOp)
	return perOp[len(perOp)/4]
}

var (
	sink       bool
	resettable = make([]*time.Timer, 1024)
)

// insertCancel is one insert+cancel: a new timer 1 h away, stopped at once.
func insertCancel(int) {
	t := time.NewTimer(time.Hour)
	sink = t.Stop()
}

// afterFuncStop is one insert+cancel of a callback timer, which goes into the heap at once.
func afterFuncStop(int) {
	sink = time.AfterFunc(time.Hour, noop).Stop()
}

func noop() {}

// resetOne resets one of the 1024 pending timers to 1 h plus up to 1 s.
func resetOne(k int) {
	sink = resettable[k&1023].Reset(time.Hour + time.Duration(k%1000000)*time.Microsecond)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scale PENDING...")
		os.Exit(2)
	}
	var steps []uint64
	for _, a := range os.Args[1:] {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "PENDING must be positive integers")
			os.Exit(2)
		}
		steps = append(steps, n)
	}
	for i := range resettable {
		resettable[i] = time.NewTimer(time.Hour)
	}
	fmt.Println("pending,insert_cancel_ns,reset_ns,after_func_ns")
	// A discarded first round, so that the first step does not pay for warming up.
	measure(insertCancel)
	measure(resetOne)
	measure(afterFuncStop)
	pending := uint64(len(resettable))
	for _, step := range steps {
		for ; pending < step; pending++ {
			time.AfterFunc(spread(pending), noop)
		}
		insert := measure(insertCancel)
		reset := measure(resetOne)
		afterFunc := measure(afterFuncStop)
		fmt.Printf("%d,%.1f,%.1f,%.1f\n", pending, insert, reset, afterFunc)
	}
}
